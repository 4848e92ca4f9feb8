/** Filesystem space and inodes per mounted disk filesystem: the mount table, then one statfs per filesystem. */
import { statfs as fsStatfs } from 'node:fs/promises';
import { join } from 'node:path';
import type { Scraper } from './context.ts';
import { attrs, gauge, sum, type Point } from './points.ts';
import { fields, lines } from './proc-files.ts';

export interface Mount {
  /** "major:minor" of the filesystem: mounts that share it share their space. */
  deviceId: string;
  /** The folder of the filesystem that is mounted: "/" unless a bind mount or a btrfs subvolume. */
  root: string;
  mountPoint: string;
  mode: string;
  type: string;
  device: string;
}

export interface FsSpace {
  frsize: number;
  bsize: number;
  blocks: number;
  bfree: number;
  bavail: number;
  files: number;
  ffree: number;
}
export type Statfs = (path: string) => Promise<FsSpace>;

/** Kernel and memory filesystems: no disk space behind them (tmpfs is counted in system.memory.usage). */
const VIRTUAL = new Set([
  'proc', 'sysfs', 'devtmpfs', 'devpts', 'tmpfs', 'ramfs', 'cgroup', 'cgroup2', 'pstore', 'bpf', 'tracefs', 'debugfs',
  'securityfs', 'mqueue', 'hugetlbfs', 'fusectl', 'configfs', 'binfmt_misc', 'autofs', 'rpc_pipefs', 'nsfs', 'efivarfs',
  'selinuxfs', 'nfsd', 'devfs', 'fuse.lxcfs', 'fuse.gvfsd-fuse', 'fuse.portal',
  // Read-only images (snaps) are always full: an alert on them would be noise.
  'squashfs',
]);
/** Network filesystems: statfs on a dead server blocks a libuv thread for minutes, and the server's own host reports them. */
const REMOTE = new Set(['nfs', 'nfs4', 'cifs', 'smb3', 'smbfs', 'ceph', 'glusterfs', 'fuse.glusterfs', 'fuse.sshfs', '9p', 'afs', 'lustre']);
/** Files a container runtime bind-mounts from the host disk; they would report the host disk under a file's name. */
const RUNTIME_FILE_BINDS = new Set(['/etc/hosts', '/etc/hostname', '/etc/resolv.conf', '/dev/termination-log']);

/** The kernel writes space, tab, newline and backslash in paths as \ooo octal. */
function unescape(path: string): string {
  return path.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/** "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue" */
export function parseMountinfo(text: string): Mount[] {
  const out: Mount[] = [];
  for (const line of lines(text)) {
    const c = fields(line);
    const sep = c.indexOf('-', 6);
    if (sep < 0 || c.length < sep + 3) throw new Error(`mountinfo: malformed line: ${JSON.stringify(line)}`);
    out.push({
      deviceId: c[2],
      root: unescape(c[3]),
      mountPoint: unescape(c[4]),
      mode: c[5].split(',')[0],
      type: c[sep + 1],
      device: unescape(c[sep + 2]),
    });
  }
  return out;
}

/**
 * The mounts worth a statfs: disk filesystems, each once. Overlay is kept only as "/", a
 * container's own root; the other overlays are other containers' roots on the same disk. A
 * filesystem mounted several times (bind mounts, btrfs subvolumes) is reported at the mount
 * of its top folder if there is one, else at its first mount.
 */
export function selectMounts(mounts: Mount[]): Mount[] {
  const byDevice = new Map<string, Mount>();
  for (const m of mounts) {
    if (VIRTUAL.has(m.type) || REMOTE.has(m.type) || RUNTIME_FILE_BINDS.has(m.mountPoint)) continue;
    if (m.type === 'overlay' && m.mountPoint !== '/') continue;
    const seen = byDevice.get(m.deviceId);
    if (!seen || (seen.root !== '/' && m.root === '/')) byDevice.set(m.deviceId, m);
  }
  return [...byDevice.values()];
}

interface Usage {
  mount: Mount;
  used: number;
  free: number;
  reserved: number;
  inodesUsed: number;
  inodesFree: number;
  inodesTotal: number;
}

function usage(mount: Mount, s: FsSpace): Usage {
  // Block counts are in fragment-size units; frsize is 0 on kernels that do not report it.
  const unit = s.frsize || s.bsize;
  return {
    mount,
    used: (s.blocks - s.bfree) * unit,
    // What unprivileged writers can still use, as df shows it; the root-only rest is "reserved".
    free: s.bavail * unit,
    reserved: Math.max(0, s.bfree - s.bavail) * unit,
    inodesUsed: s.files - s.ffree,
    inodesFree: s.ffree,
    inodesTotal: s.files,
  };
}

export function createFilesystemScraper(statfs: Statfs = fsStatfs): Scraper {
  return {
    name: 'filesystem',
    async scrape(ctx) {
      // Our own mount table: the paths are statfs'd in our mount namespace, so they must come from it.
      const mounts = selectMounts(parseMountinfo(await ctx.read(join(ctx.procRoot, 'self', 'mountinfo'))));
      const results = await Promise.allSettled(mounts.map(async (m) => usage(m, await statfs(m.mountPoint))));
      const usages = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
      // One unreadable mount (permissions, a path from another namespace) is skipped; all of them is a failure.
      const firstError = results.find((r) => r.status === 'rejected');
      if (usages.length === 0 && firstError) throw firstError.reason;
      const labels = (u: Usage, extra: Record<string, string> = {}) =>
        attrs({ device: u.mount.device, mode: u.mount.mode, mountpoint: u.mount.mountPoint, type: u.mount.type, ...extra });
      const space: Point[] = usages.flatMap((u) => [
        [u.used, labels(u, { state: 'used' })] as const,
        [u.free, labels(u, { state: 'free' })] as const,
        [u.reserved, labels(u, { state: 'reserved' })] as const,
      ]);
      const withInodes = usages.filter((u) => u.inodesTotal > 0);
      const inodes: Point[] = withInodes.flatMap((u) => [
        [u.inodesUsed, labels(u, { state: 'used' })] as const,
        [u.inodesFree, labels(u, { state: 'free' })] as const,
      ]);
      const utilization: Point[] = usages.filter((u) => u.used + u.free > 0).map((u) => [u.used / (u.used + u.free), labels(u)]);
      return [
        sum({ name: 'system.filesystem.usage', unit: 'By', description: 'Filesystem space used, free to users, and reserved for root.', int: true }, false, ctx.sinceBoot, space),
        gauge({ name: 'system.filesystem.utilization', unit: '1', description: 'Share of the space available to users that is used, as df shows it.' }, ctx.timeNanos, utilization),
        sum({ name: 'system.filesystem.inodes.usage', unit: '{inodes}', description: 'Filesystem inodes used and free.', int: true }, false, ctx.sinceBoot, inodes),
      ];
    },
  };
}

export const filesystemScraper = createFilesystemScraper();
