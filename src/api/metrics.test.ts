import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_START_NS, KEY_B, TENANT_B, createApiFixture, gaugeRow, histogramRow, minutesAgoMs, msToNsText, qs, sumRow, type ApiFixture,
} from './testing/fixture.ts';

let f: ApiFixture;
const T = minutesAgoMs(50);
const STEP_S = 60;
const STEP_MS = STEP_S * 1000;
const range = { from: T, to: T + 30 * 60_000 };

/** Deterministic pseudo-random numbers (mulberry32), so failures reproduce. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const bucketOf = (ms: number) => Math.floor(ms / STEP_MS) * STEP_MS;
const inRange = (ms: number) => ms >= range.from && ms < range.to;

interface Gauge { ms: number; host: string; service: string; value: number }
interface Counter { ms: number; host: string; start: string; value: number }
interface Hist { ms: number; service: string; start: string; counts: number[] }

const gauges: Gauge[] = [];
const cumulative: Counter[] = [];
const deltas: Array<{ ms: number; host: string; value: number }> = [];
const hists: Hist[] = [];
const BOUNDS = [5, 10, 25, 50, 100];

before(async () => {
  f = await createApiFixture();
  const r = rng(42);
  // Gauge: two hosts on two services, every 20 s, some points outside the range on both sides.
  for (let ms = T - 3 * 60_000; ms < range.to + 3 * 60_000; ms += 20_000) {
    gauges.push({ ms, host: 'h1', service: 'svc-a', value: Math.round(r() * 1000) / 10 });
    gauges.push({ ms: ms + 7_000, host: 'h2', service: 'svc-b', value: Math.round(r() * 1000) / 10 });
  }
  // Cumulative counter, every 15 s from before the range (lookback). h1 resets (value drops) at +10 min;
  // h2 restarts with a new start time at +20 min, its new value above the old one.
  const startOld = DEFAULT_START_NS;
  const startNew = msToNsText(T + 20 * 60_000 - 1000);
  let v1 = 100;
  let v2 = 5000;
  for (let ms = T - 2 * 60_000; ms < range.to; ms += 15_000) {
    v1 = ms === T + 10 * 60_000 ? 3 : v1 + Math.floor(r() * 50);
    cumulative.push({ ms, host: 'h1', start: startOld, value: v1 });
    const restarted = ms >= T + 20 * 60_000;
    v2 = ms === T + 20 * 60_000 ? 6000 : v2 + Math.floor(r() * 20);
    cumulative.push({ ms: ms + 3_000, host: 'h2', start: restarted ? startNew : startOld, value: v2 });
  }
  for (let ms = T - 60_000; ms < range.to + 60_000; ms += 10_000) {
    deltas.push({ ms, host: r() < 0.5 ? 'h1' : 'h2', value: Math.floor(r() * 10) });
  }
  // Cumulative histograms for two services every 30 s; svc-b resets at +15 min.
  const totals: Record<string, number[]> = { 'svc-a': [0, 0, 0, 0, 0, 0], 'svc-b': [0, 0, 0, 0, 0, 0] };
  for (let ms = T - 60_000; ms < range.to; ms += 30_000) {
    for (const service of ['svc-a', 'svc-b']) {
      if (service === 'svc-b' && ms === T + 15 * 60_000) totals[service] = [0, 0, 0, 0, 0, 0];
      totals[service] = totals[service].map((c, i) => c + Math.floor(r() * (service === 'svc-a' ? 10 : 4) * (i + 1)));
      hists.push({ ms: ms + (service === 'svc-b' ? 1000 : 0), service, start: DEFAULT_START_NS, counts: [...totals[service]] });
    }
  }

  await f.store.insert('otel_metrics_gauge', [
    ...gauges.map((g) => gaugeRow({ name: 'cpu', service: g.service, attributes: { host: g.host }, timeNs: msToNsText(g.ms), value: g.value })),
    gaugeRow({ tenant: TENANT_B, name: 'b_only', timeNs: msToNsText(T + 60_000), value: 1 }),
  ]);
  await f.store.insert('otel_metrics_sum', [
    ...cumulative.map((c) => sumRow({ name: 'requests', attributes: { host: c.host }, startNs: c.start, timeNs: msToNsText(c.ms), value: c.value, temporality: 2 })),
    ...deltas.map((d) => sumRow({ name: 'jobs', attributes: { host: d.host }, timeNs: msToNsText(d.ms), value: d.value, temporality: 1 })),
    sumRow({ name: 'queue_depth', timeNs: msToNsText(T + 60_000), value: 4, temporality: 2, monotonic: false }),
    sumRow({ name: 'queue_depth', timeNs: msToNsText(T + 120_000), value: 2, temporality: 2, monotonic: false }),
  ]);
  await f.store.insert('otel_metrics_histogram', [
    ...hists.map((h) => histogramRow({ name: 'latency', service: h.service, startNs: h.start, timeNs: msToNsText(h.ms), bounds: BOUNDS, counts: h.counts, temporality: 2 })),
    histogramRow({ name: 'size', timeNs: msToNsText(T + 60_000), bounds: [10, 20, 40], counts: [10, 20, 10, 0], temporality: 1 }),
    histogramRow({ name: 'size', timeNs: msToNsText(T + 61_000), bounds: [10, 20, 40], counts: [0, 0, 0, 0], temporality: 1 }),
  ]);
});

after(async () => {
  await f.close();
});

type Points = Array<[number, number]>;

async function query(params: Record<string, string | number | undefined>, key?: string) {
  const res = await f.get(`/api/v1/metrics/query?${qs({ ...range, step: STEP_S, ...params })}`, key);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body;
}

function seriesMap(body: { series: Array<{ labels: Record<string, string>; points: Points }> }): Map<string, Points> {
  return new Map(body.series.map((s) => [JSON.stringify(s.labels), s.points]));
}

function assertClose(actual: Points, expected: Points, what: string) {
  assert.deepEqual(actual.map((p) => p[0]), expected.map((p) => p[0]), `${what}: timestamps`);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(actual[i][1] - expected[i][1]) < 1e-9 * Math.max(1, Math.abs(expected[i][1])),
      `${what} at ${expected[i][0]}: ${actual[i][1]} vs ${expected[i][1]}`);
  }
}

/** Groups values by label then bucket and reduces each bucket. */
function expectedSeries<T>(items: T[], label: (x: T) => string, ms: (x: T) => number, value: (x: T) => number, reduce: (v: number[]) => number) {
  const out = new Map<string, Map<number, number[]>>();
  for (const x of items) {
    if (!inRange(ms(x))) continue;
    const byBucket = out.get(label(x)) ?? new Map<number, number[]>();
    out.set(label(x), byBucket);
    const b = bucketOf(ms(x));
    byBucket.set(b, [...(byBucket.get(b) ?? []), value(x)]);
  }
  const result = new Map<string, Points>();
  for (const [l, byBucket] of out) {
    result.set(l, [...byBucket.entries()].sort((a, b) => a[0] - b[0]).map(([b, vs]) => [b, reduce(vs)]));
  }
  return result;
}

const reducers: Record<string, (v: number[]) => number> = {
  sum: (v) => v.reduce((a, b) => a + b, 0),
  avg: (v) => v.reduce((a, b) => a + b, 0) / v.length,
  min: (v) => Math.min(...v),
  max: (v) => Math.max(...v),
};

test('gauge: sum/avg/min/max per step bucket, grouped by an attribute', async () => {
  for (const agg of Object.keys(reducers)) {
    const body = await query({ name: 'cpu', agg, groupBy: 'host' });
    assert.equal(body.kind, 'gauge');
    assert.equal(body.agg, agg);
    assert.equal(body.step, STEP_S);
    const expected = expectedSeries(gauges, (g) => JSON.stringify({ host: g.host }), (g) => g.ms, (g) => g.value, reducers[agg]);
    const actual = seriesMap(body);
    assert.deepEqual([...actual.keys()], [...expected.keys()].sort());
    for (const [labels, points] of expected) assertClose(actual.get(labels)!, points, `${agg} ${labels}`);
  }
});

test('gauge: default agg is avg; groupBy service.name reads the ServiceName column; no groupBy merges all', async () => {
  const body = await query({ name: 'cpu', groupBy: 'service.name,host' });
  assert.equal(body.agg, 'avg');
  assert.deepEqual(body.series.map((s: { labels: object }) => s.labels), [{ 'service.name': 'svc-a', host: 'h1' }, { 'service.name': 'svc-b', host: 'h2' }]);
  const all = await query({ name: 'cpu', agg: 'max' });
  assert.equal(all.series.length, 1);
  assert.deepEqual(all.series[0].labels, {});
  assertClose(all.series[0].points, expectedSeries(gauges, () => '', (g) => g.ms, (g) => g.value, reducers.max).get('')!, 'max of all');
  const missingKey = await query({ name: 'cpu', agg: 'min', groupBy: 'no.such.key' });
  assert.deepEqual(missingKey.series.map((s: { labels: object }) => s.labels), [{ 'no.such.key': '' }]);
});

test('cumulative counter: rate from per-series differences, resets and restarts handled', async () => {
  const body = await query({ name: 'requests', groupBy: 'host' });
  assert.equal(body.kind, 'sum');
  assert.equal(body.agg, 'rate', 'rate is the default for a monotonic sum');
  // Independent computation: walk each series in time order, difference with the previous point.
  const increases: Array<{ ms: number; host: string; inc: number }> = [];
  for (const host of ['h1', 'h2']) {
    const pts = cumulative.filter((c) => c.host === host).sort((a, b) => a.ms - b.ms);
    for (let i = 1; i < pts.length; i++) {
      const reset = pts[i].value < pts[i - 1].value || pts[i].start !== pts[i - 1].start;
      increases.push({ ms: pts[i].ms, host, inc: reset ? pts[i].value : pts[i].value - pts[i - 1].value });
    }
  }
  const expected = expectedSeries(increases, (x) => JSON.stringify({ host: x.host }), (x) => x.ms, (x) => x.inc, (v) => reducers.sum(v) / STEP_S);
  const actual = seriesMap(body);
  assert.deepEqual([...actual.keys()], [JSON.stringify({ host: 'h1' }), JSON.stringify({ host: 'h2' })]);
  for (const [labels, points] of expected) assertClose(actual.get(labels)!, points, `rate ${labels}`);
  // The reset of h1 and the restart of h2 did not produce negative rates.
  for (const [, points] of actual) for (const [, v] of points) assert.ok(v >= 0);
  // The first bucket has a rate: its predecessor came from the lookback before `from`.
  assert.equal(actual.get(JSON.stringify({ host: 'h1' }))![0][0], range.from);
});

test('delta counter: rate is the sum of the values over the step', async () => {
  const body = await query({ name: 'jobs', agg: 'rate' });
  const expected = expectedSeries(deltas, () => '{}', (d) => d.ms, (d) => d.value, (v) => reducers.sum(v) / STEP_S);
  const points = body.series[0]?.points ?? [];
  // Buckets whose values are all zero still have a point (0); compare everything.
  assertClose(points, expected.get('{}')!, 'delta rate');
});

/** Prometheus' histogram_quantile, written from its documentation (cumulative form). */
function referenceQuantile(q: number, bounds: number[], counts: number[]): number {
  const cumulative: number[] = [];
  counts.forEach((c, i) => cumulative.push(c + (i > 0 ? cumulative[i - 1] : 0)));
  const total = cumulative[cumulative.length - 1];
  if (total === 0) return NaN;
  const rank = q * total;
  const b = cumulative.findIndex((c) => c >= rank);
  if (b === counts.length - 1) return bounds[bounds.length - 1];
  const lowerBound = b === 0 ? 0 : bounds[b - 1];
  const below = b === 0 ? 0 : cumulative[b - 1];
  return lowerBound + (bounds[b] - lowerBound) * ((rank - below) / (cumulative[b] - below));
}

test('cumulative histogram: percentiles from merged per-series deltas', async () => {
  // Per-series increases of each bucket count; after a reset the whole counts.
  const increases: Array<{ ms: number; service: string; counts: number[] }> = [];
  for (const service of ['svc-a', 'svc-b']) {
    const pts = hists.filter((h) => h.service === service).sort((a, b) => a.ms - b.ms);
    for (let i = 1; i < pts.length; i++) {
      const reset = pts[i].counts.some((c, j) => c < pts[i - 1].counts[j]);
      increases.push({ ms: pts[i].ms, service, counts: pts[i].counts.map((c, j) => (reset ? c : c - pts[i - 1].counts[j])) });
    }
  }
  const sumCounts = (list: number[][]) => list.reduce((acc, c) => acc.map((x, i) => x + c[i]));
  for (const [agg, q] of [['p50', 0.5], ['p90', 0.9], ['p99', 0.99]] as const) {
    const perService = await query({ name: 'latency', agg, groupBy: 'service.name' });
    assert.equal(perService.kind, 'histogram');
    const actual = seriesMap(perService);
    for (const service of ['svc-a', 'svc-b']) {
      const byBucket = new Map<number, number[][]>();
      for (const x of increases) {
        if (x.service !== service || !inRange(x.ms)) continue;
        byBucket.set(bucketOf(x.ms), [...(byBucket.get(bucketOf(x.ms)) ?? []), x.counts]);
      }
      const expected: Points = [...byBucket.entries()].sort((a, b) => a[0] - b[0])
        .map(([b, list]) => [b, referenceQuantile(q, BOUNDS, sumCounts(list))] as [number, number])
        .filter(([, v]) => Number.isFinite(v));
      assertClose(actual.get(JSON.stringify({ 'service.name': service }))!, expected, `${agg} ${service}`);
    }
    // Without groupBy, both services' buckets merge before the quantile.
    const merged = await query({ name: 'latency', agg });
    const byBucket = new Map<number, number[][]>();
    for (const x of increases) if (inRange(x.ms)) byBucket.set(bucketOf(x.ms), [...(byBucket.get(bucketOf(x.ms)) ?? []), x.counts]);
    const expected: Points = [...byBucket.entries()].sort((a, b) => a[0] - b[0])
      .map(([b, list]) => [b, referenceQuantile(q, BOUNDS, sumCounts(list))] as [number, number])
      .filter(([, v]) => Number.isFinite(v));
    assertClose(merged.series[0].points, expected, `${agg} merged`);
  }
  assert.equal((await query({ name: 'latency' })).agg, 'p99', 'p99 is the default for histograms');
});

test('delta histogram: interpolated percentiles (hand-checked)', async () => {
  const body = await query({ name: 'size', agg: 'p50' });
  // 40 observations: 10 in (0,10], 20 in (10,20], 10 in (20,40]; rank 20 -> 10 + 10 * 10/20.
  assert.deepEqual(body.series, [{ labels: {}, points: [[bucketOf(T + 60_000), 15]] }]);
  const p90 = await query({ name: 'size', agg: 'p90' });
  assert.deepEqual(p90.series[0].points, [[bucketOf(T + 60_000), 32]]);
});

test('non-monotonic sum: avg by default, rate refused', async () => {
  const body = await query({ name: 'queue_depth', step: '1m' });
  assert.equal(body.agg, 'avg');
  assert.deepEqual(body.series[0].points, [[T + 60_000, 4], [T + 120_000, 2]]);
  const rate = await f.get(`/api/v1/metrics/query?${qs({ ...range, name: 'queue_depth', agg: 'rate' })}`);
  assert.equal(rate.status, 400);
  assert.match(rate.body.error, /^agg: rate needs a monotonic sum/);
});

test('default step: range / 120 rounded to a nice step', async () => {
  const body = await query({ name: 'cpu', step: undefined });
  assert.equal(body.step, 15); // 30 min / 120 = 15 s
  assert.ok(body.series[0].points.length <= 120);
});

test('unknown metric, or one of another tenant, is 404', async () => {
  const missing = await f.get(`/api/v1/metrics/query?${qs({ ...range, name: 'nope' })}`);
  assert.equal(missing.status, 404);
  assert.equal(typeof missing.body.error, 'string');
  assert.equal((await f.get(`/api/v1/metrics/query?${qs({ ...range, name: 'b_only' })}`)).status, 404);
  assert.equal((await f.get(`/api/v1/metrics/query?${qs({ ...range, name: 'cpu' })}`, KEY_B)).status, 404);
  assert.equal((await query({ name: 'b_only' }, KEY_B)).series.length, 1);
});

test('bad parameters give 400 naming them', async () => {
  const cases: Array<[Record<string, string | number>, string]> = [
    [{}, 'name'],
    [{ name: 'cpu', step: '0' }, 'step'],
    [{ name: 'cpu', step: 'fast' }, 'step'],
    [{ name: 'cpu', step: '1s', from: T - 4 * 3600_000, to: T }, 'step'], // 14400 points
    [{ name: 'cpu', agg: 'median' }, 'agg'],
    [{ name: 'cpu', agg: 'rate' }, 'agg'],
    [{ name: 'cpu', agg: 'p99' }, 'agg'],
    [{ name: 'latency', agg: 'avg' }, 'agg'],
    [{ name: 'cpu', groupBy: 'host,,x' }, 'groupBy'],
    [{ name: 'cpu', groupBy: 'host,host' }, 'groupBy'],
    [{ name: 'cpu', from: 'x' }, 'from'],
  ];
  for (const [params, name] of cases) {
    const res = await f.get(`/api/v1/metrics/query?${qs({ ...range, ...params })}`);
    assert.equal(res.status, 400, JSON.stringify(params));
    assert.ok(res.body.error.startsWith(`${name}: `), `${JSON.stringify(params)} -> ${res.body.error}`);
  }
  // 11000 points exactly is allowed.
  const edge = await f.get(`/api/v1/metrics/query?${qs({ name: 'cpu', step: 1, from: T, to: T + 11_000_000 })}`);
  assert.equal(edge.status, 200, JSON.stringify(edge.body));
});
