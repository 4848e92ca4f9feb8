import assert from 'node:assert/strict';
import { afterEach, beforeEach, test } from 'node:test';
import { str } from '../../otlp/index.ts';
import type { Consumer, Telemetry } from '../types.ts';
import { countDataPoints } from './points.ts';
import { createHostMetricsReceiver } from './receiver.ts';
import { CPUS_FIRST, CPU_STEP, attrMap, createHostFixture, findMetric, procStat, type CpuColumns, type HostFixture } from './test-fixture.ts';
import type { Metric } from './options.ts';

const INTERVAL_MS = 10_000;

class CollectingConsumer implements Consumer {
  readonly batches: Telemetry[] = [];
  /** While set, consume() does not resolve: the next component applying back-pressure. */
  gate: Promise<void> | undefined;
  fail: Error | undefined;
  async consume(batch: Telemetry): Promise<void> {
    if (this.fail) throw this.fail;
    this.batches.push(batch);
    await this.gate;
  }
}

async function waitFor(what: string, condition: () => boolean): Promise<void> {
  for (let waited = 0; !condition(); waited += 10) {
    if (waited > 20_000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function metricsOf(batch: Telemetry): Metric[] {
  assert.equal(batch.signal, 'metrics');
  const request = batch.request as { resourceMetrics: { scopeMetrics: { metrics: Metric[] }[] }[] };
  return request.resourceMetrics[0].scopeMetrics[0].metrics;
}

let fx: HostFixture;
beforeEach(() => {
  fx = createHostFixture();
});
afterEach(() => fx.cleanup());

const options = (extra: object = {}) => ({
  intervalMs: INTERVAL_MS,
  procRoot: fx.procRoot,
  sysRoot: fx.sysRoot,
  etcRoot: fx.etcRoot,
  hostName: 'web-1',
  ...extra,
});

test('scrapes at start and every interval, one batch each, until stopped', async (t) => {
  t.mock.timers.enable({ apis: ['setInterval'] });
  const next = new CollectingConsumer();
  const receiver = createHostMetricsReceiver(
    options({ extraResourceAttributes: [str('deployment.environment', 'prod'), str('host.name', 'web-1.prod.example')] }),
  );
  assert.equal(receiver.name, 'hostmetrics');
  await receiver.start(next);
  await waitFor('the first batch', () => next.batches.length === 1);

  const first = next.batches[0];
  assert.equal(first.signal, 'metrics');
  const rm = (first.request as { resourceMetrics: { resource: { attributes: never[] }; scopeMetrics: { scope: unknown }[] }[] }).resourceMetrics;
  assert.equal(rm.length, 1);
  const resource = attrMap(rm[0].resource.attributes);
  assert.equal(resource['host.name'], 'web-1.prod.example');
  assert.equal(resource['deployment.environment'], 'prod');
  assert.equal(resource['cloud.provider'], 'aws');
  assert.equal(rm[0].resource.attributes.filter((kv: { key: string }) => kv.key === 'host.name').length, 1);
  assert.deepEqual(rm[0].scopeMetrics[0].scope, { name: 'ollystack.agent.hostmetrics', version: '0.1.0' });
  assert.equal(first.items, countDataPoints(metricsOf(first)));
  assert.ok(first.items > 50);
  assert.equal(findMetric(metricsOf(first), 'system.cpu.utilization'), undefined);

  fx.write('proc/stat', procStat(CPUS_FIRST.map((c) => c.map((v, i) => v + CPU_STEP[i]) as CpuColumns)));
  t.mock.timers.tick(INTERVAL_MS);
  await waitFor('the second batch', () => next.batches.length === 2);
  const second = metricsOf(next.batches[1]);
  assert.ok(findMetric(second, 'system.cpu.utilization'));
  assert.equal(next.batches[1].items, countDataPoints(second));
  await waitFor('the second scrape to be counted', () => receiver.stats().scrapes === 2);
  assert.deepEqual(receiver.stats(), {
    scrapes: 2,
    scrapeErrors: 0,
    dataPoints: first.items + next.batches[1].items,
    skippedTicks: 0,
    consumeErrors: 0,
  });

  await receiver.stop();
  t.mock.timers.tick(INTERVAL_MS * 5);
  await receiver.stop(); // would wait for a scrape a tick had started
  assert.equal(next.batches.length, 2);
  assert.equal(receiver.stats().scrapes, 2);
});

test('a slow scrape is not overlapped, and stop() waits for it', async (t) => {
  t.mock.timers.enable({ apis: ['setInterval'] });
  const next = new CollectingConsumer();
  let release!: () => void;
  next.gate = new Promise((r) => (release = r));
  const receiver = createHostMetricsReceiver(options());
  await receiver.start(next);
  await waitFor('the first batch', () => next.batches.length === 1);

  t.mock.timers.tick(INTERVAL_MS);
  t.mock.timers.tick(INTERVAL_MS);
  assert.equal(receiver.stats().skippedTicks, 2);

  let stopped = false;
  const stopping = receiver.stop().then(() => (stopped = true));
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  assert.equal(stopped, false);
  release();
  await stopping;
  assert.equal(next.batches.length, 1);
  assert.equal(receiver.stats().scrapes, 1);
});

test('a failing metric set is logged once, counted every time, and logged again if it comes back after recovering', async (t) => {
  t.mock.timers.enable({ apis: ['setInterval'] });
  const lines: string[] = [];
  const next = new CollectingConsumer();
  fx.remove('sys/fs/cgroup');
  const receiver = createHostMetricsReceiver(options({ log: (line: string) => lines.push(line) }));
  await receiver.start(next);
  const scrapes = async (n: number) => {
    await waitFor(`scrape ${n}`, () => receiver.stats().scrapes === n);
  };
  await scrapes(1);
  t.mock.timers.tick(INTERVAL_MS);
  await scrapes(2);
  assert.equal(lines.length, 1);
  assert.match(lines[0], /^hostmetrics: cgroup metrics skipped: .*memory\.current/);
  assert.equal(receiver.stats().scrapeErrors, 2);
  assert.equal(next.batches.length, 2);

  fx.writeCgroup();
  t.mock.timers.tick(INTERVAL_MS);
  await scrapes(3);
  fx.remove('sys/fs/cgroup');
  t.mock.timers.tick(INTERVAL_MS);
  await scrapes(4);
  assert.equal(lines.length, 2);
  assert.equal(receiver.stats().scrapeErrors, 3);
  await receiver.stop();
});

test('a batch the next component refuses is counted and logged, and scraping goes on', async (t) => {
  t.mock.timers.enable({ apis: ['setInterval'] });
  const lines: string[] = [];
  const next = new CollectingConsumer();
  next.fail = new Error('buffer full');
  const receiver = createHostMetricsReceiver(options({ log: (line: string) => lines.push(line) }));
  await receiver.start(next);
  await waitFor('the first refusal', () => receiver.stats().consumeErrors === 1);
  t.mock.timers.tick(INTERVAL_MS);
  await waitFor('the second refusal', () => receiver.stats().consumeErrors === 2);
  assert.deepEqual(lines, ['hostmetrics: batch dropped, next component refused it: buffer full']);
  next.fail = undefined;
  t.mock.timers.tick(INTERVAL_MS);
  await waitFor('a batch', () => next.batches.length === 1);
  await receiver.stop();
});

test('start twice is an error', async () => {
  const receiver = createHostMetricsReceiver(options());
  const next = new CollectingConsumer();
  await receiver.start(next);
  await assert.rejects(receiver.start(next), /start\(\) called twice/);
  await receiver.stop();
});
