/**
 * For tests: a /proc, /sys and /etc tree shaped like a real Linux host's (an EC2 VM running
 * the agent in a Docker container with cgroup v2), and lookups into scraped metrics.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { KeyValue } from '../../otlp/index.ts';
import type { Metric } from './options.ts';

export const CONTAINER_ID = '3f4e1c2b9a8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f';
export const BOOT_TIME_SEC = 1_700_000_000;
export const MACHINE_ID = 'a3c5e1f2b4d64f8e9a0b1c2d3e4f5a6b';

/** Per-CPU ticks in /proc/stat column order: user nice system idle iowait irq softirq steal guest guest_nice. */
export type CpuColumns = [number, number, number, number, number, number, number, number, number, number];

export const CPUS_FIRST: CpuColumns[] = [
  [2601, 50, 700, 20000, 125, 0, 75, 25, 0, 0],
  [2400, 60, 800, 19900, 130, 0, 80, 20, 0, 0],
  [2550, 40, 760, 20100, 120, 0, 70, 30, 0, 0],
  [2449, 50, 740, 20000, 125, 0, 75, 25, 0, 0],
];

/** What each CPU adds between the first and second reading: 200 ticks each, 800 in all. */
export const CPU_STEP: CpuColumns = [60, 0, 20, 100, 10, 0, 5, 5, 0, 0];

export function procStat(cpus: CpuColumns[]): string {
  const total = cpus.reduce((acc, c) => acc.map((v, i) => v + c[i]), new Array<number>(10).fill(0));
  return [
    `cpu  ${total.join(' ')}`,
    ...cpus.map((c, i) => `cpu${i} ${c.join(' ')}`),
    'intr 1148311 0 9 0 0 0 0 0 0 0 0 0 0 138 0 0 0',
    'ctxt 2357981',
    `btime ${BOOT_TIME_SEC}`,
    'processes 98765',
    'procs_running 3',
    'procs_blocked 1',
    'softirq 712392 1 160071 9 12640 30522 0 2108 288616 0 218425',
    '',
  ].join('\n');
}

const MEMINFO = `MemTotal:       16000000 kB
MemFree:         4000000 kB
MemAvailable:   10500000 kB
Buffers:          500000 kB
Cached:          6000000 kB
SwapCached:         1024 kB
Active:          7000000 kB
Inactive:        3000000 kB
SwapTotal:       2097148 kB
SwapFree:        1048574 kB
Dirty:               288 kB
AnonPages:       3800000 kB
Shmem:             69440 kB
KReclaimable:     700000 kB
Slab:            1000000 kB
SReclaimable:     700000 kB
SUnreclaim:       300000 kB
KernelStack:        9140 kB
PageTables:        38628 kB
HugePages_Total:       0
Hugepagesize:       2048 kB
`;

const DISKSTATS = `   7       0 loop0 50 0 800 10 0 0 0 0 0 20 10 0 0 0 0 0 0
   8       0 sda 120000 3000 9600000 45000 80000 5000 6400000 70000 2 90000 115000 0 0 0 0 1000 500
   8       1 sda1 119000 2900 9500000 44000 79000 4900 6300000 69000 2 89000 113000 0 0 0 0 0 0
 259       0 nvme0n1 500000 100 40000000 120000 300000 2000 20000000 200000 0 150000 320000 0 0 0 0 0 0
 259       1 nvme0n1p1 499000 100 39900000 119000 299000 2000 19900000 199000 0 149000 318000 0 0 0 0 0 0
 253       0 dm-0 10 0 80 1 20 0 160 3 0 4 4 0 0 0 0 0 0
`;

const NET_DEV = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:    1000      10    0    0    0     0          0         0     1000      10    0    0    0     0       0          0
  eth0: 987654321 876543    3    7    0     0          0       120 123456789  234567    1    2    0     0       0          0
docker0:5555 44 0 0 0 0 0 0 6666 55 0 0 0 0 0 0 0
veth1a2b3c4:     100       1    0    0    0     0          0         0      200       2    0    0    0     0       0          0
`;

const SELF_STATUS = `Name:\tnode
Umask:\t0022
State:\tS (sleeping)
Tgid:\t4242
Pid:\t4242
VmPeak:\t 1300000 kB
VmSize:\t 1234567 kB
VmHWM:\t   70000 kB
VmRSS:\t   65432 kB
Threads:\t11
`;

/** The container's mount table as Docker shows it; "/" is the real filesystem under the fixture so statfs works. */
const MOUNTINFO = `652 600 0:52 / / rw,relatime master:303 - overlay overlay rw,lowerdir=/var/lib/docker/overlay2/l/ABC,upperdir=/var/lib/docker/overlay2/x/diff
653 652 0:57 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw
654 652 0:58 / /dev rw,nosuid - tmpfs tmpfs rw,size=65536k,mode=755
655 652 0:63 / /sys ro,nosuid,nodev,noexec,relatime - sysfs sysfs ro
656 655 0:30 / /sys/fs/cgroup ro,nosuid,nodev,noexec,relatime - cgroup2 cgroup rw
657 652 8:1 /var/lib/docker/containers/${CONTAINER_ID}/resolv.conf /etc/resolv.conf rw,relatime - ext4 /dev/sda1 rw
658 652 8:1 /var/lib/docker/containers/${CONTAINER_ID}/hostname /etc/hostname rw,relatime - ext4 /dev/sda1 rw
659 652 8:1 /var/lib/docker/containers/${CONTAINER_ID}/hosts /etc/hosts rw,relatime - ext4 /dev/sda1 rw
660 652 259:1 / /var/lib/my\\040data ro,relatime - xfs /dev/nvme0n1p1 rw
661 652 0:45 / /mnt/share rw,relatime - nfs4 fileserver:/export rw
`;

const CGROUP_PATH = `/system.slice/docker-${CONTAINER_ID}.scope`;

export interface HostFixture {
  dir: string;
  procRoot: string;
  sysRoot: string;
  etcRoot: string;
  /** The agent's cgroup folder, relative to dir (for write and remove). */
  cgroupDir: string;
  write(relative: string, content: string): void;
  /** (Re)writes the agent's cgroup v2 files. */
  writeCgroup(): void;
  remove(relative: string): void;
  cleanup(): void;
}

export function createHostFixture(): HostFixture {
  const dir = mkdtempSync(join(tmpdir(), 'ollystack-hostmetrics-'));
  const write = (relative: string, content: string) => {
    const path = join(dir, relative);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
  };
  write('proc/stat', procStat(CPUS_FIRST));
  write('proc/loadavg', '1.25 0.80 0.55 4/987 123456\n');
  write('proc/meminfo', MEMINFO);
  write('proc/diskstats', DISKSTATS);
  write('proc/net/dev', NET_DEV);
  write('proc/self/status', SELF_STATUS);
  write('proc/self/cgroup', `0::${CGROUP_PATH}\n`);
  write('proc/self/mountinfo', MOUNTINFO);
  for (const d of ['sda', 'nvme0n1', 'loop0', 'dm-0']) mkdirSync(join(dir, 'sys/block', d), { recursive: true });
  const cgroupDir = join('sys/fs/cgroup', CGROUP_PATH);
  const writeCgroup = () => {
    write(join(cgroupDir, 'memory.current'), '73400320\n');
    write(join(cgroupDir, 'memory.max'), '268435456\n');
    write(join(cgroupDir, 'cpu.max'), '150000 100000\n');
    write(join(cgroupDir, 'cpu.stat'), 'usage_usec 5500000\nuser_usec 4000000\nsystem_usec 1500000\nnr_periods 120\nnr_throttled 3\nthrottled_usec 25000\n');
    // The root cgroup has cpu.stat too (the whole host's): the scraper must not read it as the container's.
    write('sys/fs/cgroup/cpu.stat', 'usage_usec 999999999\nuser_usec 1\nsystem_usec 1\n');
  };
  writeCgroup();
  write('sys/class/dmi/id/sys_vendor', 'Amazon EC2\n');
  write('sys/class/dmi/id/product_name', 'm5.large\n');
  write('sys/class/dmi/id/bios_vendor', 'Amazon EC2\n');
  write('sys/class/dmi/id/chassis_asset_tag', 'Amazon EC2\n');
  write('etc/machine-id', `${MACHINE_ID}\n`);
  write(
    'etc/os-release',
    'PRETTY_NAME="Ubuntu 22.04.4 LTS"\nNAME="Ubuntu"\nVERSION_ID="22.04"\nVERSION="22.04.4 LTS (Jammy Jellyfish)"\nID=ubuntu\nID_LIKE=debian\n',
  );
  return {
    dir,
    procRoot: join(dir, 'proc'),
    sysRoot: join(dir, 'sys'),
    etcRoot: join(dir, 'etc'),
    cgroupDir,
    write,
    writeCgroup,
    remove: (relative) => rmSync(join(dir, relative), { recursive: true, force: true }),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export function findMetric(metrics: readonly Metric[], name: string): Metric | undefined {
  return metrics.find((m) => m.name === name);
}

export function attrMap(attributes: readonly KeyValue[] | null | undefined): Record<string, string> {
  return Object.fromEntries((attributes ?? []).map((kv) => [kv.key, String(kv.value?.stringValue ?? kv.value?.intValue ?? '')]));
}

/** Every point of a metric as { value, attrs }, in order. */
export function pointsOf(metrics: readonly Metric[], name: string): { value: number; attrs: Record<string, string> }[] {
  const m = findMetric(metrics, name);
  if (!m) throw new Error(`no metric ${name}`);
  const pts = m.sum?.dataPoints ?? m.gauge?.dataPoints ?? [];
  return pts.map((p) => ({ value: Number(p.asInt ?? p.asDouble), attrs: attrMap(p.attributes) }));
}

/** The value of the one point whose attributes include `match`. */
export function valueOf(metrics: readonly Metric[], name: string, match: Record<string, string> = {}): number {
  const hits = pointsOf(metrics, name).filter((p) => Object.entries(match).every(([k, v]) => p.attrs[k] === v));
  if (hits.length !== 1) throw new Error(`${name} ${JSON.stringify(match)}: ${hits.length} points match`);
  return hits[0].value;
}
