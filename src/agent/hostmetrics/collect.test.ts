import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { collectHostMetrics } from './collect.ts';
import { createScrapeState } from './context.ts';
import { countDataPoints } from './points.ts';
import {
  BOOT_TIME_SEC,
  CPUS_FIRST,
  CPU_STEP,
  createHostFixture,
  findMetric,
  pointsOf,
  procStat,
  valueOf,
  type CpuColumns,
  type HostFixture,
} from './test-fixture.ts';

const NOW_MS = 1_700_000_500_000;
const KB = 1024;

describe('collectHostMetrics on a fixture host', () => {
  let fx: HostFixture;
  before(() => {
    fx = createHostFixture();
  });
  after(() => fx.cleanup());

  const options = () => ({ procRoot: fx.procRoot, sysRoot: fx.sysRoot, etcRoot: fx.etcRoot, now: () => NOW_MS });

  test('reads every metric set, with exact values, units and attributes', async () => {
    fx.write('proc/stat', procStat(CPUS_FIRST));
    const { metrics, failures, dataPoints } = await collectHostMetrics(createScrapeState(), options());
    assert.deepEqual(failures, []);
    assert.equal(dataPoints, countDataPoints(metrics));

    // CPU: seconds per CPU and state from USER_HZ ticks; no utilization without a previous reading.
    const cpuTime = findMetric(metrics, 'system.cpu.time')!;
    assert.equal(cpuTime.unit, 's');
    assert.equal(cpuTime.sum!.isMonotonic, true);
    assert.equal(cpuTime.sum!.aggregationTemporality, 2);
    assert.equal(cpuTime.sum!.dataPoints!.length, 4 * 8);
    assert.equal(valueOf(metrics, 'system.cpu.time', { cpu: 'cpu0', state: 'user' }), 26.01);
    assert.equal(valueOf(metrics, 'system.cpu.time', { cpu: 'cpu1', state: 'nice' }), 0.6);
    assert.equal(valueOf(metrics, 'system.cpu.time', { cpu: 'cpu2', state: 'wait' }), 1.2);
    assert.equal(valueOf(metrics, 'system.cpu.time', { cpu: 'cpu3', state: 'steal' }), 0.25);
    assert.equal(valueOf(metrics, 'system.cpu.time', { cpu: 'cpu1', state: 'softirq' }), 0.8);
    assert.equal(findMetric(metrics, 'system.cpu.utilization'), undefined);
    assert.equal(valueOf(metrics, 'system.cpu.logical.count'), 4);
    // Cumulative host counters start at boot; every point is stamped with the scrape time.
    const p0 = cpuTime.sum!.dataPoints![0];
    assert.equal(String(p0.startTimeUnixNano), `${BOOT_TIME_SEC}000000000`);
    assert.equal(String(p0.timeUnixNano), `${NOW_MS}000000`);

    assert.equal(valueOf(metrics, 'system.cpu.load_average.1m'), 1.25);
    assert.equal(valueOf(metrics, 'system.cpu.load_average.5m'), 0.8);
    assert.equal(valueOf(metrics, 'system.cpu.load_average.15m'), 0.55);
    assert.equal(findMetric(metrics, 'system.cpu.load_average.1m')!.gauge!.dataPoints![0].startTimeUnixNano, undefined);

    // Memory: states add up to MemTotal; "used" is what is left after free, buffers, cache and slab.
    const mem = findMetric(metrics, 'system.memory.usage')!;
    assert.equal(mem.unit, 'By');
    assert.equal(mem.sum!.isMonotonic, false);
    assert.deepEqual(
      pointsOf(metrics, 'system.memory.usage').map((p) => [p.attrs.state, p.value]),
      [
        ['used', 4_500_000 * KB],
        ['free', 4_000_000 * KB],
        ['buffered', 500_000 * KB],
        ['cached', 6_000_000 * KB],
        ['slab_reclaimable', 700_000 * KB],
        ['slab_unreclaimable', 300_000 * KB],
      ],
    );
    assert.equal(valueOf(metrics, 'system.memory.limit'), 16_000_000 * KB);
    assert.equal(valueOf(metrics, 'system.memory.utilization', { state: 'used' }), 4_500_000 / 16_000_000);
    assert.equal(findMetric(metrics, 'system.memory.usage')!.sum!.dataPoints![0].asInt, 4_500_000 * KB);
    assert.equal(findMetric(metrics, 'system.memory.utilization')!.gauge!.dataPoints![0].asInt, undefined);

    assert.equal(valueOf(metrics, 'system.paging.usage', { state: 'used' }), (2_097_148 - 1_048_574) * KB);
    assert.equal(valueOf(metrics, 'system.paging.usage', { state: 'free' }), 1_048_574 * KB);
    assert.equal(valueOf(metrics, 'system.paging.utilization', { state: 'used' }), 1_048_574 / 2_097_148);

    // Disks: whole disks only (no partitions, no loop devices); sectors are 512 bytes; ms become s.
    assert.deepEqual([...new Set(pointsOf(metrics, 'system.disk.io').map((p) => p.attrs.device))], ['sda', 'nvme0n1', 'dm-0']);
    assert.equal(valueOf(metrics, 'system.disk.io', { device: 'sda', direction: 'read' }), 9_600_000 * 512);
    assert.equal(valueOf(metrics, 'system.disk.io', { device: 'sda', direction: 'write' }), 6_400_000 * 512);
    assert.equal(valueOf(metrics, 'system.disk.operations', { device: 'nvme0n1', direction: 'read' }), 500_000);
    assert.equal(valueOf(metrics, 'system.disk.operations', { device: 'nvme0n1', direction: 'write' }), 300_000);
    assert.equal(valueOf(metrics, 'system.disk.merged', { device: 'sda', direction: 'write' }), 5000);
    assert.equal(valueOf(metrics, 'system.disk.io_time', { device: 'sda' }), 90);
    assert.equal(valueOf(metrics, 'system.disk.operation_time', { device: 'sda', direction: 'write' }), 70);
    assert.equal(valueOf(metrics, 'system.disk.pending_operations', { device: 'sda' }), 2);
    assert.equal(findMetric(metrics, 'system.disk.io')!.unit, 'By');
    assert.equal(findMetric(metrics, 'system.disk.io_time')!.unit, 's');

    // Filesystems: the container's overlay root only (runtime file binds, NFS and a missing mount point are skipped).
    const fs = pointsOf(metrics, 'system.filesystem.usage');
    assert.deepEqual(
      fs.map((p) => p.attrs),
      ['used', 'free', 'reserved'].map((state) => ({ device: 'overlay', mode: 'rw', mountpoint: '/', type: 'overlay', state })),
    );
    const used = fs[0].value;
    const free = fs[1].value;
    assert.ok(used > 0 && free > 0);
    const util = valueOf(metrics, 'system.filesystem.utilization');
    assert.ok(util > 0 && util < 1);

    // Network: lo and veth* left out; both line formats parsed.
    assert.deepEqual([...new Set(pointsOf(metrics, 'system.network.io').map((p) => p.attrs.device))], ['eth0', 'docker0']);
    assert.equal(valueOf(metrics, 'system.network.io', { device: 'eth0', direction: 'receive' }), 987_654_321);
    assert.equal(valueOf(metrics, 'system.network.io', { device: 'eth0', direction: 'transmit' }), 123_456_789);
    assert.equal(valueOf(metrics, 'system.network.packets', { device: 'eth0', direction: 'transmit' }), 234_567);
    assert.equal(valueOf(metrics, 'system.network.errors', { device: 'eth0', direction: 'receive' }), 3);
    assert.equal(valueOf(metrics, 'system.network.dropped', { device: 'eth0', direction: 'receive' }), 7);
    assert.equal(valueOf(metrics, 'system.network.dropped', { device: 'eth0', direction: 'transmit' }), 2);
    assert.equal(valueOf(metrics, 'system.network.io', { device: 'docker0', direction: 'transmit' }), 6666);

    assert.equal(valueOf(metrics, 'system.processes.count', { status: 'running' }), 3);
    assert.equal(valueOf(metrics, 'system.processes.count', { status: 'blocked' }), 1);
    assert.equal(valueOf(metrics, 'system.processes.created'), 98_765);
    assert.equal(valueOf(metrics, 'system.thread.count'), 987);

    // The agent: memory and threads from its status file; CPU from Node, counted since the agent started.
    assert.equal(valueOf(metrics, 'process.memory.usage'), 65_432 * KB);
    assert.equal(valueOf(metrics, 'process.memory.virtual'), 1_234_567 * KB);
    assert.equal(valueOf(metrics, 'process.threads'), 11);
    assert.ok(valueOf(metrics, 'process.cpu.time', { state: 'user' }) > 0);
    const selfStart = findMetric(metrics, 'process.cpu.time')!.sum!.dataPoints![0].startTimeUnixNano;
    assert.ok(BigInt(String(selfStart)) > BigInt(`${BOOT_TIME_SEC}000000000`));

    // The container: its own cgroup folder (not the cgroup root), "max" values skipped elsewhere.
    assert.equal(valueOf(metrics, 'container.memory.usage'), 73_400_320);
    assert.equal(valueOf(metrics, 'container.memory.limit'), 268_435_456);
    assert.equal(valueOf(metrics, 'container.cpu.time', { state: 'user' }), 4);
    assert.equal(valueOf(metrics, 'container.cpu.time', { state: 'system' }), 1.5);
    assert.equal(valueOf(metrics, 'container.cpu.limit'), 1.5);
  });

  test('CPU utilization per state across all CPUs comes from the change between two scrapes', async () => {
    const state = createScrapeState();
    fx.write('proc/stat', procStat(CPUS_FIRST));
    await collectHostMetrics(state, options());
    const second: CpuColumns[] = CPUS_FIRST.map((c) => c.map((v, i) => v + CPU_STEP[i]) as CpuColumns);
    fx.write('proc/stat', procStat(second));
    const { metrics } = await collectHostMetrics(state, options());
    const util = Object.fromEntries(pointsOf(metrics, 'system.cpu.utilization').map((p) => [p.attrs.state, p.value]));
    // 800 ticks passed: user 240, system 80, idle 400, wait 40, softirq 20, steal 20.
    assert.deepEqual(util, { user: 0.3, system: 0.1, idle: 0.5, interrupt: 0, nice: 0, softirq: 0.025, steal: 0.025, wait: 0.05 });
    assert.equal(findMetric(metrics, 'system.cpu.utilization')!.unit, '1');
    assert.equal(valueOf(metrics, 'system.cpu.time', { cpu: 'cpu0', state: 'user' }), 26.61);
  });

  test('a missing file skips only its metric set', async () => {
    fx.remove('sys/fs/cgroup');
    fx.remove('proc/diskstats');
    try {
      const { metrics, failures, dataPoints } = await collectHostMetrics(createScrapeState(), options());
      assert.deepEqual(failures.map((f) => f.scraper).sort(), ['cgroup', 'disk']);
      assert.match(failures.find((f) => f.scraper === 'cgroup')!.error.message, /memory\.current/);
      assert.equal(findMetric(metrics, 'system.disk.io'), undefined);
      assert.equal(findMetric(metrics, 'container.memory.usage'), undefined);
      for (const name of ['system.cpu.time', 'system.memory.usage', 'system.network.io', 'system.filesystem.usage', 'process.cpu.time']) {
        assert.ok(findMetric(metrics, name), name);
      }
      assert.equal(dataPoints, countDataPoints(metrics));
    } finally {
      fx.cleanup();
      fx = createHostFixture();
    }
  });

  test('a malformed file fails its set with a message naming the file and field', async () => {
    fx.write('proc/loadavg', 'garbage\n');
    try {
      const { failures } = await collectHostMetrics(createScrapeState(), options());
      assert.deepEqual(failures.map((f) => f.scraper).sort(), ['load', 'processes']);
      assert.match(failures[0].error.message, /\/proc\/loadavg: 1m load is not a number/);
    } finally {
      fx.write('proc/loadavg', '1.25 0.80 0.55 4/987 123456\n');
    }
  });

  test('selfMetrics are appended, and a throwing one is reported without losing the rest', async () => {
    const extra = { name: 'otelcol_receiver_accepted', unit: '{items}', gauge: { dataPoints: [{ asInt: 5 }, { asInt: 6 }] } };
    const ok = await collectHostMetrics(createScrapeState(), { ...options(), selfMetrics: () => [extra] });
    assert.equal(ok.metrics.at(-1), extra);
    assert.equal(ok.dataPoints, countDataPoints(ok.metrics));
    const bad = await collectHostMetrics(createScrapeState(), {
      ...options(),
      selfMetrics: () => {
        throw new Error('boom');
      },
    });
    assert.deepEqual(
      bad.failures.map((f) => [f.scraper, f.error.message]),
      [['selfMetrics', 'boom']],
    );
    assert.ok(findMetric(bad.metrics, 'system.cpu.time'));
  });
});

describe('collectHostMetrics on this machine', () => {
  test('the main metrics are present and sane', { timeout: 60_000 }, async () => {
    const state = createScrapeState();
    let result = await collectHostMetrics(state);
    // Utilization needs at least one tick (10 ms) between readings; poll rather than sleep a fixed time.
    for (let i = 0; i < 100 && !findMetric(result.metrics, 'system.cpu.utilization'); i++) {
      await new Promise((r) => setTimeout(r, 50));
      result = await collectHostMetrics(state);
    }
    const { metrics, failures } = result;
    const failed = failures.map((f) => f.scraper);
    for (const set of ['cpu', 'load', 'memory', 'processes', 'process']) assert.ok(!failed.includes(set), `${set}: ${failures.find((f) => f.scraper === set)?.error.message}`);

    const cpus = valueOf(metrics, 'system.cpu.logical.count');
    assert.ok(cpus >= 1);
    assert.equal(pointsOf(metrics, 'system.cpu.time').length, cpus * 8);
    const util = pointsOf(metrics, 'system.cpu.utilization');
    assert.equal(util.length, 8);
    assert.ok(util.every((p) => p.value >= 0 && p.value <= 1));
    assert.ok(Math.abs(util.reduce((s, p) => s + p.value, 0) - 1) < 1e-9);

    const total = valueOf(metrics, 'system.memory.limit');
    const used = valueOf(metrics, 'system.memory.usage', { state: 'used' });
    assert.ok(used > 0 && used < total, `used ${used} of ${total}`);
    assert.equal(pointsOf(metrics, 'system.memory.usage').reduce((s, p) => s + p.value, 0), total);

    assert.ok(valueOf(metrics, 'system.cpu.load_average.1m') >= 0);
    assert.ok(valueOf(metrics, 'system.thread.count') >= 1);
    assert.ok(valueOf(metrics, 'system.processes.count', { status: 'running' }) >= 1);
    const rss = valueOf(metrics, 'process.memory.usage');
    assert.ok(rss > 1024 * 1024 && rss < total);
    assert.ok(valueOf(metrics, 'process.threads') >= 1);
    assert.ok(valueOf(metrics, 'process.cpu.time', { state: 'user' }) > 0);
  });
});
