import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDiskstats, selectDisks } from './disk.ts';

const STATS = parseDiskstats(`   8       0 sda 1 0 8 0 1 0 8 0 0 0 0
   8       1 sda1 1 0 8 0 1 0 8 0 0 0 0
   7       0 loop0 1 0 8 0 0 0 0 0 0 0 0
   1       0 ram0 0 0 0 0 0 0 0 0 0 0 0
 252       0 zram0 0 0 0 0 0 0 0 0 0 0 0
 259       0 nvme0n1 1 0 8 0 1 0 8 0 0 0 0
`);

test('without sysfs, partitions cannot be told from disks and are kept; loop and RAM devices never are', () => {
  assert.deepEqual(selectDisks(STATS, undefined).map((d) => d.device), ['sda', 'sda1', 'nvme0n1']);
});

test('with sysfs, only the whole disks it lists are kept', () => {
  assert.deepEqual(selectDisks(STATS, new Set(['sda', 'loop0', 'nvme0n1'])).map((d) => d.device), ['sda', 'nvme0n1']);
});

test('a short diskstats line is an error naming the device and field', () => {
  assert.throws(() => parseDiskstats('   8       0 sda 1 0 8\n'), /\/proc\/diskstats: sda read time is not a whole number/);
});
