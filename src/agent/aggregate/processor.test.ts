import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Workload } from '../../demo/index.ts';
import { decodeRequest, encodeRequest, int, longToNumber, opentelemetry, str, type KeyValue, type Nanos } from '../../otlp/index.ts';
import type { Consumer, Processor, Telemetry } from '../types.ts';
import { toNumber } from './numbers.ts';
import { FOLDED_METRIC, OVERFLOW_ATTRIBUTE, createMetricAggregator, type AggregatorOptions } from './index.ts';
import { u64 } from './test-longs.ts';

type Metric = opentelemetry.proto.metrics.v1.Metric.$Properties;
type MetricsRequest = opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest.$Properties;

const DELTA = opentelemetry.proto.metrics.v1.AggregationTemporality.AGGREGATION_TEMPORALITY_DELTA;
const CUMULATIVE = opentelemetry.proto.metrics.v1.AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE;
const HOUR = 3_600_000;
const NOW = Date.UTC(2025, 5, 1, 12, 0, 0);

class Capture implements Consumer {
  readonly batches: Telemetry[] = [];
  fail: Error | undefined;
  async consume(batch: Telemetry): Promise<void> {
    if (this.fail) throw this.fail;
    this.batches.push(batch);
  }
}

function aggregator(options: Partial<AggregatorOptions> = {}): { agg: Processor; out: Capture; logs: string[] } {
  const out = new Capture();
  const logs: string[] = [];
  const agg = createMetricAggregator({ next: out, windowMs: HOUR, now: () => NOW, log: (l) => logs.push(l), ...options });
  return { agg, out, logs };
}

function request(service: string, metrics: Metric[], scope = { name: 'lib', version: '1.0' }): MetricsRequest {
  return { resourceMetrics: [{ resource: { attributes: [str('service.name', service)] }, scopeMetrics: [{ scope, metrics }] }] };
}

function metricsBatch(req: MetricsRequest): Telemetry {
  let items = 0;
  for (const rm of req.resourceMetrics ?? [])
    for (const sm of rm.scopeMetrics ?? [])
      for (const m of sm.metrics ?? []) items += (m.sum ?? m.gauge ?? m.histogram ?? m.exponentialHistogram ?? m.summary)?.dataPoints?.length ?? 0;
  return { signal: 'metrics', request: req, items };
}

function deltaSum(name: string, points: Array<{ attrs: KeyValue[]; value: number; t?: number }>): Metric {
  return { name, unit: '1', sum: { aggregationTemporality: DELTA, isMonotonic: true, dataPoints: points.map((p) => ({ attributes: p.attrs, startTimeUnixNano: (p.t ?? 1) - 1, timeUnixNano: p.t ?? 1, asInt: p.value })) } };
}

interface Row {
  service: string;
  scope: string;
  metric: string;
  attrs: Record<string, unknown>;
  // Output points are plain objects of any of the five point types.
  point: Record<string, unknown>;
}

function attrsOf(list: readonly KeyValue[] | null | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const kv of list ?? []) {
    const v = kv.value ?? {};
    out[kv.key ?? ''] = v.stringValue ?? v.boolValue ?? (v.intValue !== null && v.intValue !== undefined ? longToNumber(v.intValue) : v.doubleValue);
  }
  return out;
}

function rows(batches: readonly Telemetry[]): Row[] {
  const out: Row[] = [];
  for (const b of batches) {
    if (b.signal !== 'metrics') continue;
    for (const rm of b.request.resourceMetrics ?? []) {
      const service = String(attrsOf(rm.resource?.attributes)['service.name']);
      for (const sm of rm.scopeMetrics ?? []) {
        for (const m of sm.metrics ?? []) {
          const points = (m.sum ?? m.gauge ?? m.histogram ?? m.exponentialHistogram ?? m.summary)?.dataPoints ?? [];
          for (const p of points) out.push({ service, scope: sm.scope?.name ?? '', metric: m.name ?? '', attrs: attrsOf(p.attributes), point: p as Record<string, unknown> });
        }
      }
    }
  }
  return out;
}

function nanos(n: bigint): Nanos {
  return u64(n.toString());
}

function value(p: Record<string, unknown>): number {
  return p.asInt !== undefined && p.asInt !== null ? longToNumber(p.asInt) : (p.asDouble as number);
}

describe('metric aggregator', () => {
  test('other signals pass straight through, and a refusal reaches the caller', async () => {
    const { agg, out } = aggregator();
    const logs: Telemetry = { signal: 'logs', request: { resourceLogs: [] }, items: 0 };
    await agg.consume(logs);
    assert.equal(out.batches[0], logs);
    out.fail = new Error('buffer full');
    await assert.rejects(agg.consume({ signal: 'traces', request: { resourceSpans: [] }, items: 0 }), /buffer full/);
    await agg.stop();
  });

  test('metrics are held until the window closes, then merged per series', async () => {
    const { agg, out } = aggregator();
    await agg.consume(metricsBatch(request('a', [deltaSum('req', [{ attrs: [str('route', '/'), int('code', 200)], value: 2, t: 10 }])])));
    await agg.consume(metricsBatch(request('a', [deltaSum('req', [{ attrs: [int('code', 200), str('route', '/')], value: 3, t: 20 }])])));
    assert.equal(out.batches.length, 0);
    assert.equal(agg.stats().seriesActive, 1);
    await agg.flush();
    const r = rows(out.batches);
    assert.equal(r.length, 1);
    assert.deepEqual(r[0].attrs, { route: '/', code: 200 });
    assert.equal(value(r[0].point), 5);
    assert.equal(r[0].point.startTimeUnixNano, 9);
    assert.equal(r[0].point.timeUnixNano, 20);
    assert.deepEqual(agg.stats(), { pointsIn: 2, pointsOut: 1, pointsFolded: 0, pointsDropped: 0, windows: 1, seriesActive: 0 });
    await agg.flush();
    assert.equal(out.batches.length, 1, 'an empty window sends nothing');
    await agg.stop();
  });

  test('series are told apart by resource, scope and temporality', async () => {
    const { agg, out } = aggregator();
    const attrs = [str('route', '/')];
    const cumulative: Metric = { name: 'req', unit: '1', sum: { aggregationTemporality: CUMULATIVE, isMonotonic: true, dataPoints: [{ attributes: attrs, startTimeUnixNano: 0, timeUnixNano: 5, asInt: 100 }] } };
    await agg.consume(metricsBatch(request('a', [deltaSum('req', [{ attrs, value: 1 }])])));
    await agg.consume(metricsBatch(request('b', [deltaSum('req', [{ attrs, value: 2 }])])));
    await agg.consume(metricsBatch(request('a', [deltaSum('req', [{ attrs, value: 4 }])], { name: 'other', version: '1.0' })));
    await agg.consume(metricsBatch(request('a', [deltaSum('req', [{ attrs, value: 8 }])], { name: 'lib', version: '2.0' })));
    await agg.consume(metricsBatch(request('a', [cumulative])));
    await agg.flush();
    const got = rows(out.batches).map((r) => `${r.service}/${r.scope}/${value(r.point)}`);
    assert.deepEqual(got.sort(), ['a/lib/1', 'a/lib/100', 'a/lib/8', 'a/other/4', 'b/lib/2']);
    await agg.stop();
  });

  test('each type merges by its rule, and a gauge with several values gets .min and .max', async () => {
    const { agg, out } = aggregator();
    const host = [str('host', 'h1')];
    for (const [t, v] of [
      [10, 40],
      [20, 90],
      [30, 60],
    ]) {
      await agg.consume(
        metricsBatch(
          request('a', [
            { name: 'mem', unit: 'By', gauge: { dataPoints: [{ attributes: host, timeUnixNano: t, asInt: v }] } },
            { name: 'cpu', unit: 's', sum: { aggregationTemporality: CUMULATIVE, isMonotonic: true, dataPoints: [{ attributes: host, startTimeUnixNano: 0, timeUnixNano: t, asDouble: v / 10 }] } },
            { name: 'lat', unit: 's', histogram: { aggregationTemporality: DELTA, dataPoints: [{ attributes: host, startTimeUnixNano: t - 10, timeUnixNano: t, count: 2, sum: v, explicitBounds: [50], bucketCounts: [1, 1] }] } },
            { name: 'quote', unit: 's', summary: { dataPoints: [{ attributes: host, startTimeUnixNano: 0, timeUnixNano: t, count: t, sum: v, quantileValues: [{ quantile: 0.5, value: v }] }] } },
          ]),
        ),
      );
    }
    await agg.flush();
    const byName = new Map(rows(out.batches).map((r) => [r.metric, r]));
    assert.deepEqual([...byName.keys()].sort(), ['cpu', 'lat', 'mem', 'mem.max', 'mem.min', 'quote']);
    assert.equal(value(byName.get('mem')!.point), 60);
    assert.equal(value(byName.get('mem.min')!.point), 40);
    assert.equal(value(byName.get('mem.max')!.point), 90);
    assert.deepEqual(byName.get('mem.max')!.attrs, { host: 'h1' });
    assert.equal(value(byName.get('cpu')!.point), 6);
    assert.deepEqual(byName.get('lat')!.point.bucketCounts, [3, 3]);
    assert.equal(byName.get('lat')!.point.sum, 190);
    assert.equal(byName.get('quote')!.point.count, 30);
    assert.equal(agg.stats().pointsOut, 6);
    assert.equal(agg.stats().pointsIn, 12);
    await agg.stop();
  });

  test('beyond maxSeriesPerMetric new series fold into the overflow series, and the counter says so', async () => {
    const { agg, out, logs } = aggregator({ maxSeriesPerMetric: 2 });
    const users = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => ({ attrs: [str('user', `u${from + i}`)], value: from + i }));
    await agg.consume(metricsBatch(request('shop', [deltaSum('hits', users(1, 5))])));
    // An existing series still merges normally once the limit is reached.
    await agg.consume(metricsBatch(request('shop', [deltaSum('hits', users(1, 1))])));
    await agg.flush();
    let r = rows(out.batches);
    const hits = r.filter((x) => x.metric === 'hits');
    assert.deepEqual(
      hits.map((x) => [x.attrs, value(x.point)]),
      [
        [{ user: 'u1' }, 2],
        [{ user: 'u2' }, 2],
        [{ [OVERFLOW_ATTRIBUTE]: true }, 3 + 4 + 5],
      ],
    );
    const folded = r.filter((x) => x.metric === FOLDED_METRIC);
    assert.equal(folded.length, 1);
    assert.deepEqual(folded[0].attrs, { 'metric.name': 'hits', reason: 'series_limit' });
    assert.equal(folded[0].service, 'shop');
    assert.equal(value(folded[0].point), 3);
    assert.equal(agg.stats().pointsFolded, 3);
    assert.equal(logs.length, 1);
    assert.match(logs[0], /"hits" has more than 2 series/);

    // The counter is cumulative across windows.
    out.batches.length = 0;
    await agg.consume(metricsBatch(request('shop', [deltaSum('hits', users(10, 13))])));
    await agg.flush();
    r = rows(out.batches);
    assert.equal(value(r.find((x) => x.metric === FOLDED_METRIC)!.point), 3 + 2);
    assert.equal(logs.length, 1, 'the first fold of a metric is logged once');
    await agg.stop();
  });

  test('beyond maxValuesPerAttribute new series fold with reason attribute_values', async () => {
    const { agg, out, logs } = aggregator({ maxValuesPerAttribute: 2 });
    const points = ['a', 'b', 'c', 'd'].map((id, i) => ({ attrs: [str('route', '/'), str('session', id)], value: i + 1 }));
    points.push({ attrs: [str('route', '/x'), str('session', 'a')], value: 10 });
    await agg.consume(metricsBatch(request('shop', [deltaSum('hits', points)])));
    await agg.flush();
    const r = rows(out.batches);
    assert.deepEqual(
      r.filter((x) => x.metric === 'hits').map((x) => [x.attrs, value(x.point)]),
      [
        [{ route: '/', session: 'a' }, 1],
        [{ route: '/', session: 'b' }, 2],
        [{ [OVERFLOW_ATTRIBUTE]: true }, 3 + 4],
        [{ route: '/x', session: 'a' }, 10],
      ],
    );
    const folded = r.filter((x) => x.metric === FOLDED_METRIC);
    assert.deepEqual(
      folded.map((x) => [x.attrs, value(x.point)]),
      [[{ 'metric.name': 'hits', reason: 'attribute_values' }, 2]],
    );
    assert.match(logs[0], /values of attribute "session"/);
    await agg.stop();
  });

  test('output batches hold at most maxPointsPerBatch points', async () => {
    const { agg, out } = aggregator({ maxPointsPerBatch: 10 });
    const points = Array.from({ length: 25 }, (_, i) => ({ attrs: [str('id', String(i))], value: i }));
    await agg.consume(metricsBatch(request('a', [deltaSum('m', points)])));
    await agg.flush();
    assert.deepEqual(
      out.batches.map((b) => b.items),
      [10, 10, 5],
    );
    assert.deepEqual(
      out.batches.map((b) => rows([b]).length),
      [10, 10, 5],
    );
    assert.equal(agg.stats().pointsOut, 25);
    await agg.stop();
  });

  test('decoded input (Longs, byte views) comes out as valid OTLP that round-trips', async () => {
    const { agg, out } = aggregator();
    const traceId = new Uint8Array(16).fill(0xab);
    const spanId = new Uint8Array(8).fill(0xcd);
    const t0 = BigInt(NOW) * 1_000_000n;
    const source: MetricsRequest = request('a', [
      {
        name: 'req',
        unit: '1',
        sum: {
          aggregationTemporality: DELTA,
          isMonotonic: true,
          dataPoints: [1, 2].map((i) => ({ attributes: [str('r', '/')], startTimeUnixNano: nanos(t0 + BigInt(i)), timeUnixNano: nanos(t0 + BigInt(i) * 1_000_000_000n), asInt: -i, exemplars: [{ timeUnixNano: nanos(t0), asDouble: i, traceId, spanId }] })),
        },
      },
      { name: 'size', unit: 'By', exponentialHistogram: { aggregationTemporality: DELTA, dataPoints: [{ attributes: [], startTimeUnixNano: 1, timeUnixNano: 2, scale: 3, count: 2, zeroCount: 0, sum: 3, positive: { offset: -2, bucketCounts: [1, 1] } }] } },
    ]);
    for (let i = 0; i < 2; i++) {
      const decoded = decodeRequest('metrics', encodeRequest('metrics', source));
      await agg.consume({ signal: 'metrics', request: decoded, items: 3 });
    }
    await agg.flush();
    assert.equal(out.batches.length, 1);
    const back = decodeRequest('metrics', encodeRequest('metrics', out.batches[0].request as MetricsRequest));
    const metrics = back.resourceMetrics[0].scopeMetrics[0].metrics;
    const sum = metrics.find((m) => m.name === 'req')!.sum!;
    assert.equal(sum.aggregationTemporality, DELTA);
    assert.equal(sum.dataPoints.length, 1);
    const p = sum.dataPoints[0];
    assert.equal(toNumber(p.asInt), -6);
    assert.equal(BigInt(String(p.startTimeUnixNano)), t0 + 1n);
    assert.equal(BigInt(String(p.timeUnixNano)), t0 + 2_000_000_000n);
    assert.equal(p.exemplars.length, 4);
    assert.deepEqual([...p.exemplars[0].traceId!], [...traceId]);
    const eh = metrics.find((m) => m.name === 'size')!.exponentialHistogram!.dataPoints[0];
    assert.equal(longToNumber(eh.count), 4);
    assert.equal(eh.scale, 3);
    assert.deepEqual(
      eh.positive!.bucketCounts.map(longToNumber),
      [2, 2],
    );
    await agg.stop();
  });

  test('the demo workload: points out < points in over one window', async (t) => {
    const { agg } = aggregator();
    const workload = new Workload({ seed: 42, startMs: NOW, rate: 20 });
    const stepMs = 10_000;
    for (let at = NOW; at < NOW + 60_000; at += stepMs) {
      workload.window(at, at + stepMs);
      const m = workload.metricsAt(at + stepMs);
      const decoded = decodeRequest('metrics', encodeRequest('metrics', m.request));
      await agg.consume({ signal: 'metrics', request: decoded, items: m.dataPoints });
    }
    await agg.flush();
    const { pointsIn, pointsOut } = agg.stats();
    const reduction = 1 - pointsOut / pointsIn;
    t.diagnostic(`demo: ${pointsIn} points in, ${pointsOut} out over 6 exports in one window: ${(reduction * 100).toFixed(1)} % fewer`);
    assert.ok(pointsIn > 0);
    assert.ok(pointsOut < pointsIn, `${pointsOut} out of ${pointsIn}`);
    await agg.stop();
  });

  test('the timer closes the window every windowMs', async () => {
    const { agg, out } = aggregator({ windowMs: 20 });
    await agg.consume(metricsBatch(request('a', [deltaSum('m', [{ attrs: [], value: 1 }])])));
    const deadline = Date.now() + 30_000;
    while (out.batches.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.equal(rows(out.batches).length, 1);
    assert.equal(agg.stats().windows, 1);
    await agg.stop();
  });

  test('stop() flushes what is held and later metrics are refused', async () => {
    const { agg, out } = aggregator();
    await agg.consume(metricsBatch(request('a', [deltaSum('m', [{ attrs: [], value: 1 }])])));
    await agg.stop();
    assert.equal(rows(out.batches).length, 1);
    await assert.rejects(agg.consume(metricsBatch(request('a', [deltaSum('m', [{ attrs: [], value: 1 }])]))), /stopped/);
  });

  test('a window the next component refuses is counted as dropped, logged, and flush() rejects', async () => {
    const { agg, out, logs } = aggregator();
    await agg.consume(metricsBatch(request('a', [deltaSum('m', [{ attrs: [], value: 1 }])])));
    out.fail = new Error('disk full');
    await assert.rejects(agg.flush(), /disk full/);
    assert.equal(agg.stats().pointsDropped, 1);
    assert.match(logs[0], /dropped 1 aggregated data points.*disk full/);
    out.fail = undefined;
    await agg.consume(metricsBatch(request('a', [deltaSum('m', [{ attrs: [], value: 1 }])])));
    await agg.stop();
    assert.equal(agg.stats().pointsOut, 1);
  });

  test('a receiver checkpoint travels with the last batch of its window', async () => {
    const { agg, out } = aggregator({ maxPointsPerBatch: 1 });
    const batch = metricsBatch(request('a', [deltaSum('m', [{ attrs: [str('k', '1')], value: 1 }, { attrs: [str('k', '2')], value: 1 }])]));
    await agg.consume({ ...batch, checkpoint: { source: 'file', state: '{"pos":1}' } });
    await agg.consume({ ...metricsBatch(request('a', [])), checkpoint: { source: 'file', state: '{"pos":2}' } });
    await agg.consume({ ...metricsBatch(request('a', [])), checkpoint: { source: 'other', state: '{}' } });
    await agg.flush();
    assert.deepEqual(
      out.batches.map((b) => [b.items, b.checkpoint?.state]),
      [
        [1, undefined],
        [1, '{"pos":2}'],
        [0, '{}'],
      ],
    );
    await agg.stop();
  });

  test('bad options name the field', () => {
    const next = new Capture();
    assert.throws(() => createMetricAggregator({ next, windowMs: 0 }), /aggregate: windowMs must be a finite number > 0, got 0/);
    assert.throws(() => createMetricAggregator({ next, maxSeriesPerMetric: 1.5 }), /maxSeriesPerMetric must be an integer >= 1/);
    assert.throws(() => createMetricAggregator({ next, maxValuesPerAttribute: -1 }), /maxValuesPerAttribute/);
    assert.throws(() => createMetricAggregator({ next, maxPointsPerBatch: 0 }), /maxPointsPerBatch/);
    assert.throws(() => createMetricAggregator({ next: {} as Consumer }), /next must be a Consumer/);
  });
});
