/** /proc/diskstats: bytes, operations and busy time per disk. */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Scraper } from './context.ts';
import { attrs, sum, type Point } from './points.ts';
import { fields, lines, whole } from './proc-files.ts';

export interface DiskStats {
  device: string;
  reads: number;
  readsMerged: number;
  readBytes: number;
  readTimeMs: number;
  writes: number;
  writesMerged: number;
  writtenBytes: number;
  writeTimeMs: number;
  inFlight: number;
  ioTimeMs: number;
}

const FILE = '/proc/diskstats';
/** /proc/diskstats counts 512-byte sectors whatever the device's own sector size. */
const SECTOR_BYTES = 512;
/** Loop devices mirror I/O that is counted again on the disk under the file; RAM disks do no disk I/O. */
const NOT_A_DISK = /^(loop|ram|zram)\d+$/;

export function parseDiskstats(text: string): DiskStats[] {
  return lines(text).map((line) => {
    const c = fields(line);
    const device = c[2];
    const n = (i: number, what: string) => whole(c[i], FILE, `${device} ${what}`);
    return {
      device,
      reads: n(3, 'reads'),
      readsMerged: n(4, 'reads merged'),
      readBytes: n(5, 'sectors read') * SECTOR_BYTES,
      readTimeMs: n(6, 'read time'),
      writes: n(7, 'writes'),
      writesMerged: n(8, 'writes merged'),
      writtenBytes: n(9, 'sectors written') * SECTOR_BYTES,
      writeTimeMs: n(10, 'write time'),
      inFlight: n(11, 'I/Os in progress'),
      ioTimeMs: n(12, 'I/O time'),
    };
  });
}

/**
 * Which devices to report: whole disks (those in <sysRoot>/block, which include md and dm
 * devices) but not their partitions, whose I/O the disk already counts, and no loop or RAM
 * devices. Without sysfs, partitions cannot be told apart and are kept.
 */
export function selectDisks(stats: DiskStats[], wholeDisks: ReadonlySet<string> | undefined): DiskStats[] {
  return stats.filter((d) => !NOT_A_DISK.test(d.device) && (!wholeDisks || wholeDisks.has(d.device)));
}

async function listWholeDisks(sysRoot: string): Promise<Set<string> | undefined> {
  try {
    return new Set(await readdir(join(sysRoot, 'block')));
  } catch {
    return undefined;
  }
}

export const diskScraper: Scraper = {
  name: 'disk',
  async scrape(ctx) {
    const [text, wholeDisks] = await Promise.all([ctx.read(join(ctx.procRoot, 'diskstats')), listWholeDisks(ctx.sysRoot)]);
    const disks = selectDisks(parseDiskstats(text), wholeDisks);
    const perDirection = (read: (d: DiskStats) => number, write: (d: DiskStats) => number): Point[] =>
      disks.flatMap((d) => [
        [read(d), attrs({ device: d.device, direction: 'read' })] as const,
        [write(d), attrs({ device: d.device, direction: 'write' })] as const,
      ]);
    const counter = { int: true };
    return [
      sum({ name: 'system.disk.io', unit: 'By', description: 'Bytes read from and written to disk.', ...counter }, true, ctx.sinceBoot, perDirection((d) => d.readBytes, (d) => d.writtenBytes)),
      sum({ name: 'system.disk.operations', unit: '{operations}', description: 'Disk reads and writes completed.', ...counter }, true, ctx.sinceBoot, perDirection((d) => d.reads, (d) => d.writes)),
      sum({ name: 'system.disk.merged', unit: '{operations}', description: 'Adjacent disk requests merged into one.', ...counter }, true, ctx.sinceBoot, perDirection((d) => d.readsMerged, (d) => d.writesMerged)),
      sum({ name: 'system.disk.operation_time', unit: 's', description: 'Time spent in disk reads and writes, summed over requests.' }, true, ctx.sinceBoot, perDirection((d) => d.readTimeMs / 1000, (d) => d.writeTimeMs / 1000)),
      sum({ name: 'system.disk.io_time', unit: 's', description: 'Time the disk was busy with at least one request.' }, true, ctx.sinceBoot, disks.map((d) => [d.ioTimeMs / 1000, attrs({ device: d.device })])),
      sum({ name: 'system.disk.pending_operations', unit: '{operations}', description: 'Disk requests in flight.', ...counter }, false, ctx.sinceBoot, disks.map((d) => [d.inFlight, attrs({ device: d.device })])),
    ];
  },
};
