import assert from 'node:assert/strict';
import { test } from 'node:test';
import { msToNanos } from '../../otlp/index.ts';
import { createScrapeState, type ScrapeContext } from './context.ts';
import { createFilesystemScraper, parseMountinfo, selectMounts, type FsSpace } from './filesystem.ts';
import { pointsOf, valueOf } from './test-fixture.ts';

/** A host's mount table (Fedora on btrfs, with a USB disk, tmpfs, snaps, NFS and a Docker overlay). */
const HOST_MOUNTINFO = `22 1 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:5 - proc proc rw
23 1 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:6 - sysfs sysfs rw,seclabel
26 1 0:31 /root / rw,relatime shared:1 - btrfs /dev/nvme0n1p3 rw,seclabel,compress=zstd:1,ssd,subvol=/root
27 26 0:31 /home /home rw,relatime shared:2 - btrfs /dev/nvme0n1p3 rw,seclabel,compress=zstd:1,ssd,subvol=/home
28 26 259:2 / /boot rw,relatime shared:3 - ext4 /dev/nvme0n1p2 rw,seclabel
29 28 259:1 / /boot/efi rw,relatime shared:4 - vfat /dev/nvme0n1p1 rw,fmask=0077,dmask=0077
30 26 0:35 / /tmp rw,nosuid,nodev shared:7 - tmpfs tmpfs rw,seclabel,size=8000000k
31 26 7:0 / /snap/core/1234 ro,nodev,relatime shared:8 - squashfs /dev/loop0 ro
32 26 0:45 / /mnt/nas rw,relatime shared:9 - nfs4 nas:/volume1 rw,vers=4.2
33 26 8:17 / /media/usb\\040stick ro,nosuid,nodev,relatime shared:10 - exfat /dev/sdb1 ro
34 26 0:50 / /var/lib/docker/overlay2/abc/merged rw,relatime - overlay overlay rw,lowerdir=x
35 26 259:2 / /srv/boot-copy rw,relatime shared:3 - ext4 /dev/nvme0n1p2 rw,seclabel
`;

test('mountinfo: optional fields skipped, octal escapes decoded, mode from the mount options', () => {
  const usb = parseMountinfo(HOST_MOUNTINFO).find((m) => m.device === '/dev/sdb1')!;
  assert.deepEqual(usb, { deviceId: '8:17', root: '/', mountPoint: '/media/usb stick', mode: 'ro', type: 'exfat', device: '/dev/sdb1' });
});

test('each disk filesystem once; virtual, read-only image, network and other containers\' overlays left out', () => {
  assert.deepEqual(
    selectMounts(parseMountinfo(HOST_MOUNTINFO)).map((m) => m.mountPoint),
    // btrfs subvolumes share one filesystem: reported at the first mount; /srv/boot-copy repeats /boot.
    ['/', '/boot', '/boot/efi', '/media/usb stick'],
  );
});

test('a filesystem mounted at a subfolder first and at its top later is reported at its top', () => {
  const mounts = parseMountinfo(`40 1 8:1 /data/sub /mnt/sub rw - ext4 /dev/sda1 rw
41 1 8:1 / /data rw - ext4 /dev/sda1 rw
`);
  assert.deepEqual(selectMounts(mounts).map((m) => m.mountPoint), ['/data']);
});

function context(mountinfo: string): ScrapeContext {
  const timeNanos = msToNanos(1_700_000_000_000);
  return {
    procRoot: '/proc',
    sysRoot: '/sys',
    read: async () => mountinfo,
    timeNanos,
    sinceBoot: { timeNanos, startNanos: msToNanos(1_600_000_000_000) },
    sinceAgentStart: { timeNanos, startNanos: timeNanos },
    state: createScrapeState(),
  };
}

const SPACE: FsSpace = { frsize: 4096, bsize: 65536, blocks: 1000, bfree: 400, bavail: 350, files: 500, ffree: 120 };

test('space in fragment-size blocks: used, free to users, reserved for root; utilization as df shows it', async () => {
  const scraper = createFilesystemScraper(async (path) => {
    if (path === '/boot') return { ...SPACE, frsize: 0, bsize: 1024, files: 0, ffree: 0 };
    if (path === '/') return SPACE;
    throw Object.assign(new Error(`EACCES: ${path}`), { code: 'EACCES' });
  });
  const metrics = await scraper.scrape(context(HOST_MOUNTINFO));
  const root = { mountpoint: '/' };
  assert.equal(valueOf(metrics, 'system.filesystem.usage', { ...root, state: 'used' }), 600 * 4096);
  assert.equal(valueOf(metrics, 'system.filesystem.usage', { ...root, state: 'free' }), 350 * 4096);
  assert.equal(valueOf(metrics, 'system.filesystem.usage', { ...root, state: 'reserved' }), 50 * 4096);
  assert.equal(valueOf(metrics, 'system.filesystem.utilization', root), 600 / 950);
  assert.deepEqual(pointsOf(metrics, 'system.filesystem.usage')[0].attrs, { device: '/dev/nvme0n1p3', mode: 'rw', mountpoint: '/', type: 'btrfs', state: 'used' });
  // frsize 0 (old kernels): blocks are in bsize units.
  assert.equal(valueOf(metrics, 'system.filesystem.usage', { mountpoint: '/boot', state: 'used' }), 600 * 1024);
  // Inodes only where the filesystem counts them.
  assert.equal(valueOf(metrics, 'system.filesystem.inodes.usage', { ...root, state: 'used' }), 380);
  assert.equal(valueOf(metrics, 'system.filesystem.inodes.usage', { ...root, state: 'free' }), 120);
  assert.equal(pointsOf(metrics, 'system.filesystem.inodes.usage').length, 2);
  // Mounts whose statfs failed are simply absent.
  assert.deepEqual([...new Set(pointsOf(metrics, 'system.filesystem.usage').map((p) => p.attrs.mountpoint))], ['/', '/boot']);
});

test('when no mount can be statfs\'d the set fails with the first error', async () => {
  const scraper = createFilesystemScraper(async (path) => {
    throw new Error(`EACCES: ${path}`);
  });
  await assert.rejects(scraper.scrape(context(HOST_MOUNTINFO)), /EACCES: \//);
});
