import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cpuUtilization } from './cpu.ts';
import { parseProcStat, type CpuTicks } from './proc-stat.ts';

const ticks = (t: Partial<CpuTicks>): CpuTicks => ({ user: 0, system: 0, idle: 0, interrupt: 0, nice: 0, softirq: 0, steal: 0, wait: 0, ...t });

test('utilization counts a state that went backwards as 0, and the rest still sums to 1', () => {
  const u = cpuUtilization(ticks({ user: 100, idle: 100, wait: 50 }), ticks({ user: 130, idle: 190, wait: 40 }))!;
  assert.equal(u.user, 0.25);
  assert.equal(u.idle, 0.75);
  assert.equal(u.wait, 0);
});

test('utilization is undefined when no tick passed', () => {
  assert.equal(cpuUtilization(ticks({ user: 5 }), ticks({ user: 5 })), undefined);
});

test('/proc/stat of an old kernel (no steal, no guest columns) reads the missing states as 0', () => {
  const s = parseProcStat('cpu  10 1 5 100 2 3 4\ncpu0 10 1 5 100 2 3 4\nbtime 1\nprocesses 2\nprocs_running 1\nprocs_blocked 0\n');
  assert.deepEqual(s.total, { user: 10, system: 5, idle: 100, interrupt: 3, nice: 1, softirq: 4, steal: 0, wait: 2 });
  assert.equal(s.cpus.length, 1);
});

test('guest time is not added again: it is already inside user and nice', () => {
  const s = parseProcStat('cpu  10 1 5 100 2 3 4 6 9 9\nbtime 1\nprocesses 2\nprocs_running 1\nprocs_blocked 0\n');
  assert.equal(Object.values(s.total).reduce((a, b) => a + b, 0), 10 + 1 + 5 + 100 + 2 + 3 + 4 + 6);
});

test('a /proc/stat without btime or with a bad column is an error naming it', () => {
  assert.throws(() => parseProcStat('cpu  1 2 3 4 5\nprocesses 1\nprocs_running 1\nprocs_blocked 0\n'), /\/proc\/stat: no "btime" line/);
  assert.throws(() => parseProcStat('cpu  1 x 3 4 5\n'), /\/proc\/stat: cpu nice is not a whole number: "x"/);
});
