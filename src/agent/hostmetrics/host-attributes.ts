/**
 * The resource of every batch: which host, which OS, which cloud and container, read once at
 * start from files (no metadata-endpoint calls: they cost a network timeout off-cloud).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { str, type KeyValue } from '../../otlp/index.ts';
import { parseMountinfo } from './filesystem.ts';
import { resolveHostMetricsOptions, type HostMetricsOptions } from './options.ts';
import { lines } from './proc-files.ts';

/** process.platform as the semantic conventions' os.type. */
const OS_TYPES: Record<string, string> = { win32: 'windows', sunos: 'solaris' };
/** process.arch as the semantic conventions' host.arch. */
const ARCHES: Record<string, string> = { x64: 'amd64', ia32: 'x86', arm: 'arm32', ppc: 'ppc32' };

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch {
    return undefined;
  }
}

/** os-release: KEY=value lines, values optionally quoted with shell-style escapes. */
export function parseOsRelease(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of lines(text)) {
    const m = /^\s*([A-Z0-9_]+)=(.*)$/.exec(line);
    if (!m) continue;
    let v = m[2].trim();
    const q = v[0];
    if ((q === '"' || q === "'") && v.endsWith(q) && v.length >= 2) v = v.slice(1, -1);
    if (q === '"') v = v.replace(/\\(["\\$`])/g, '$1');
    out.set(m[1], v);
  }
  return out;
}

export interface Dmi {
  sysVendor?: string;
  productName?: string;
  productVersion?: string;
  biosVendor?: string;
  biosVersion?: string;
  chassisAssetTag?: string;
}

/** Azure writes this asset tag on its VMs; a Hyper-V VM elsewhere has the same vendor and product names. */
const AZURE_ASSET_TAG = '7783-7084-3265-9085-8269-3286-77';

/** cloud.provider and cloud.platform as the semantic conventions name them, from what the hypervisor's firmware says. */
export function cloudFromDmi(d: Dmi): { provider: string; platform: string } | undefined {
  const amazon = /amazon/i;
  if (d.sysVendor === 'Amazon EC2' || d.biosVendor === 'Amazon EC2' || amazon.test(d.biosVersion ?? '') || amazon.test(d.productVersion ?? '')) {
    return { provider: 'aws', platform: 'aws_ec2' };
  }
  if (d.productName === 'Google Compute Engine' || d.sysVendor === 'Google') return { provider: 'gcp', platform: 'gcp_compute_engine' };
  if (d.chassisAssetTag === AZURE_ASSET_TAG) return { provider: 'azure', platform: 'azure_vm' };
  if (d.sysVendor === 'Alibaba Cloud' || d.productName?.startsWith('Alibaba Cloud ECS')) return { provider: 'alibaba_cloud', platform: 'alibaba_cloud_ecs' };
  if (d.chassisAssetTag === 'OracleCloud.com') return { provider: 'oracle_cloud', platform: 'oracle_cloud_compute' };
  if (d.sysVendor === 'Tencent Cloud') return { provider: 'tencent_cloud', platform: 'tencent_cloud_cvm' };
  return undefined;
}

async function readDmi(sysRoot: string): Promise<Dmi> {
  const dir = join(sysRoot, 'class', 'dmi', 'id');
  const [sysVendor, productName, productVersion, biosVendor, biosVersion, chassisAssetTag] = await Promise.all(
    ['sys_vendor', 'product_name', 'product_version', 'bios_vendor', 'bios_version', 'chassis_asset_tag'].map((f) => readOptional(join(dir, f))),
  );
  return { sysVendor, productName, productVersion, biosVendor, biosVersion, chassisAssetTag };
}

/** A 64-hex container id ending a cgroup path: ".../docker-<id>.scope", ".../cri-containerd-<id>.scope", "/docker/<id>". */
const CGROUP_CONTAINER_ID = /(?:^|[/:-])([0-9a-f]{64})(?:\.scope)?$/;
/** A runtime's per-container folder behind its /etc/hostname bind: Docker ".../containers/<id>/hostname", Podman ".../overlay-containers/<id>/userdata/hostname". */
const MOUNT_CONTAINER_ID = /containers\/([0-9a-f]{64})\//;

/**
 * container.id from the agent's cgroup path (cgroup v1, or v2 without a cgroup namespace), else
 * from the runtime files bind-mounted into it (v2 with a namespace shows only "0::/").
 */
export function containerIdFrom(cgroup: string | undefined, mountinfo: string | undefined): string | undefined {
  for (const line of lines(cgroup ?? '')) {
    const m = CGROUP_CONTAINER_ID.exec(line.trim());
    if (m) return m[1];
  }
  if (mountinfo) {
    for (const mount of parseMountinfo(mountinfo)) {
      if (!['/etc/hostname', '/etc/hosts', '/etc/resolv.conf'].includes(mount.mountPoint)) continue;
      const m = MOUNT_CONTAINER_ID.exec(mount.root);
      if (m) return m[1];
    }
  }
  return undefined;
}

async function containerId(procRoot: string): Promise<string | undefined> {
  const [cgroup, mountinfo] = await Promise.all([readOptional(join(procRoot, 'self', 'cgroup')), readOptional(join(procRoot, 'self', 'mountinfo'))]);
  try {
    return containerIdFrom(cgroup, mountinfo);
  } catch {
    return undefined; // an unreadable mount table leaves container.id out; it never fails detection
  }
}

/**
 * host.name, host.id (machine-id), os.type, os.name/os.version/os.description (os-release),
 * host.arch, cloud.provider/cloud.platform when the DMI data names a cloud, container.id when
 * the agent runs in a container. What cannot be read is left out.
 */
export async function detectHostAttributes(options: HostMetricsOptions = {}): Promise<KeyValue[]> {
  const o = resolveHostMetricsOptions(options);
  const [machineId, osRelease, dmi, container] = await Promise.all([
    readOptional(join(o.etcRoot, 'machine-id')),
    readOptional(join(o.etcRoot, 'os-release')),
    readDmi(o.sysRoot),
    containerId(o.procRoot),
  ]);
  const out: KeyValue[] = [str('host.name', o.hostName)];
  if (machineId) out.push(str('host.id', machineId));
  out.push(str('host.arch', ARCHES[process.arch] ?? process.arch));
  out.push(str('os.type', OS_TYPES[process.platform] ?? process.platform));
  const release = parseOsRelease(osRelease ?? '');
  const osName = release.get('NAME');
  const osVersion = release.get('VERSION_ID');
  const osDescription = release.get('PRETTY_NAME');
  if (osName) out.push(str('os.name', osName));
  if (osVersion) out.push(str('os.version', osVersion));
  if (osDescription) out.push(str('os.description', osDescription));
  const cloud = cloudFromDmi(dmi);
  if (cloud) out.push(str('cloud.provider', cloud.provider), str('cloud.platform', cloud.platform));
  if (container) out.push(str('container.id', container));
  return out;
}
