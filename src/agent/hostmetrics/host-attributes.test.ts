import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { cloudFromDmi, containerIdFrom, detectHostAttributes, parseOsRelease } from './host-attributes.ts';
import { CONTAINER_ID, MACHINE_ID, attrMap, createHostFixture, type HostFixture } from './test-fixture.ts';

let fx: HostFixture;
before(() => {
  fx = createHostFixture();
});
after(() => fx.cleanup());

const ID = 'c0ffee00'.repeat(8);

test('detects host, OS, cloud and container attributes from the fixture host', async () => {
  const attrs = await detectHostAttributes({ procRoot: fx.procRoot, sysRoot: fx.sysRoot, etcRoot: fx.etcRoot, hostName: 'web-1' });
  assert.deepEqual(attrMap(attrs), {
    'host.name': 'web-1',
    'host.id': MACHINE_ID,
    'host.arch': ({ x64: 'amd64', arm64: 'arm64' } as Record<string, string>)[process.arch] ?? process.arch,
    'os.type': 'linux',
    'os.name': 'Ubuntu',
    'os.version': '22.04',
    'os.description': 'Ubuntu 22.04.4 LTS',
    'cloud.provider': 'aws',
    'cloud.platform': 'aws_ec2',
    'container.id': CONTAINER_ID,
  });
});

test('what cannot be read is left out rather than failing', async () => {
  const attrs = attrMap(await detectHostAttributes({ procRoot: `${fx.dir}/none`, sysRoot: `${fx.dir}/none`, etcRoot: `${fx.dir}/none`, hostName: 'h' }));
  assert.deepEqual(Object.keys(attrs), ['host.name', 'host.arch', 'os.type']);
});

test('container.id from cgroup v1, v2 systemd scopes, Kubernetes, and the mount table when the cgroup path is hidden', () => {
  assert.equal(containerIdFrom(`12:memory:/docker/${ID}\n0::/\n`, undefined), ID);
  assert.equal(containerIdFrom(`0::/system.slice/docker-${ID}.scope\n`, undefined), ID);
  assert.equal(containerIdFrom(`0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1_2.slice/cri-containerd-${ID}.scope\n`, undefined), ID);
  assert.equal(containerIdFrom(`0::/machine.slice/libpod-${ID}.scope\n`, undefined), ID);
  const docker = `657 652 8:1 /var/lib/docker/containers/${ID}/hostname /etc/hostname rw - ext4 /dev/sda1 rw\n`;
  assert.equal(containerIdFrom('0::/\n', docker), ID);
  const podman = `700 600 0:40 /containers/storage/overlay-containers/${ID}/userdata/hosts /etc/hosts rw - tmpfs tmpfs rw\n`;
  assert.equal(containerIdFrom('0::/\n', podman), ID);
  // A host: systemd's own cgroup paths and 32-hex ids are not container ids.
  assert.equal(containerIdFrom('0::/user.slice/user-1000.slice/session-2.scope\n4:memory:/process_api/098d0418e0819eb07b326cd4bf0b6981\n', '27 1 254:0 / / rw - ext4 /dev/vda rw\n'), undefined);
});

test('cloud from DMI: Azure is told apart from Hyper-V by its asset tag', () => {
  assert.deepEqual(cloudFromDmi({ productName: 'Google Compute Engine', sysVendor: 'Google' }), { provider: 'gcp', platform: 'gcp_compute_engine' });
  assert.deepEqual(cloudFromDmi({ sysVendor: 'Xen', biosVersion: '4.11.amazon' }), { provider: 'aws', platform: 'aws_ec2' });
  const hyperV = { sysVendor: 'Microsoft Corporation', productName: 'Virtual Machine' };
  assert.equal(cloudFromDmi(hyperV), undefined);
  assert.deepEqual(cloudFromDmi({ ...hyperV, chassisAssetTag: '7783-7084-3265-9085-8269-3286-77' }), { provider: 'azure', platform: 'azure_vm' });
  assert.equal(cloudFromDmi({ sysVendor: 'QEMU', productName: 'Standard PC (Q35 + ICH9, 2009)' }), undefined);
});

test('os-release values: quoted, single-quoted, escaped, or bare', () => {
  const r = parseOsRelease('NAME="Fedora Linux"\nVERSION_ID=40\nPRETTY_NAME=\'Arch\'\nX="a \\"b\\""\n# comment\n');
  assert.deepEqual(Object.fromEntries(r), { NAME: 'Fedora Linux', VERSION_ID: '40', PRETTY_NAME: 'Arch', X: 'a "b"' });
});
