import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { KEY_B, TENANT_B, createApiFixture, minutesAgoMs, msToNsText, qs, spanRow, type ApiFixture, type SpanSpec } from './testing/fixture.ts';

let f: ApiFixture;
const t0 = minutesAgoMs(40);
const range = { from: t0 - 60_000, to: t0 + 30 * 60_000 };

const T1 = '0af7651916cd43dd8448eb211c80319c';
const T2 = '1bf7651916cd43dd8448eb211c80319c';
const T3 = '2cf7651916cd43dd8448eb211c80319c';
const T_OLD = '3df7651916cd43dd8448eb211c80319c';
const T_B = '4ef7651916cd43dd8448eb211c80319c';

// T1: front -> api -> db, api fails. Starts at t0 + 1 min; rows inserted out of order.
const t1Spans: SpanSpec[] = [
  { traceId: T1, spanId: 'a000000000000003', parentSpanId: 'a000000000000002', name: 'SELECT', service: 'db', kind: 'Client',
    startNs: msToNsText(t0 + 60_000, 3_000_123n), durationNs: 1_000_000 },
  { traceId: T1, spanId: 'a000000000000001', name: 'GET /checkout', service: 'front', kind: 'Server',
    startNs: msToNsText(t0 + 60_000, 7n), durationNs: 250_000_000, status: 'Ok',
    attributes: { 'http.method': 'GET', 'http.status_code': '500' }, resourceAttributes: { 'service.name': 'front', 'host.name': 'h1' },
    events: [{ timeNs: msToNsText(t0 + 60_100, 9n), name: 'retry', attributes: { attempt: '2' } }] },
  { traceId: T1, spanId: 'a000000000000002', parentSpanId: 'a000000000000001', name: 'POST /pay', service: 'api', kind: 'Server',
    startNs: msToNsText(t0 + 60_000, 1_000_000n), durationNs: 300_000_000, status: 'Error', statusMessage: 'card declined' },
];
// T2: one fast ok span at t0 + 5 min.
const t2Spans: SpanSpec[] = [
  { traceId: T2, spanId: 'b000000000000001', name: 'GET /health', service: 'front', startNs: msToNsText(t0 + 5 * 60_000), durationNs: 2_000_000, status: 'Unset' },
];
// T3: newest (t0 + 10 min), root in worker, child error in api with 900 ms.
const t3Spans: SpanSpec[] = [
  { traceId: T3, spanId: 'c000000000000001', name: 'consume', service: 'worker', kind: 'Consumer', startNs: msToNsText(t0 + 10 * 60_000), durationNs: 1_000_000_000 },
  { traceId: T3, spanId: 'c000000000000002', parentSpanId: 'c000000000000001', name: 'POST /charge', service: 'api', kind: 'Client',
    startNs: msToNsText(t0 + 10 * 60_000 + 50), durationNs: 900_000_000, status: 'Error' },
];

before(async () => {
  f = await createApiFixture();
  await f.store.insert('otel_traces', [
    ...[...t1Spans, ...t2Spans, ...t3Spans].map(spanRow),
    spanRow({ traceId: T_OLD, spanId: 'd000000000000001', service: 'front', startNs: msToNsText(t0 - 10 * 60_000), durationNs: 1 }),
    spanRow({ tenant: TENANT_B, traceId: T_B, spanId: 'e000000000000001', service: 'b-front', startNs: msToNsText(t0 + 60_000), durationNs: 5 }),
  ]);
});

after(async () => {
  await f.close();
});

test('trace by id: all spans ordered by start with every field', async () => {
  const res = await f.get(`/api/v1/traces/${T1}`);
  assert.equal(res.status, 200);
  assert.equal(res.body.traceId, T1);
  const expected = [...t1Spans].sort((a, b) => (BigInt(a.startNs) < BigInt(b.startNs) ? -1 : 1));
  assert.deepEqual(res.body.spans.map((s: { spanId: string }) => s.spanId), expected.map((s) => s.spanId));
  const root = res.body.spans[0];
  assert.deepEqual(root, {
    spanId: 'a000000000000001', parentSpanId: '', name: 'GET /checkout', serviceName: 'front', kind: 'Server',
    startTimeUnixNano: t1Spans[1].startNs, durationNano: '250000000', statusCode: 'Ok', statusMessage: '',
    attributes: { 'http.method': 'GET', 'http.status_code': '500' }, resourceAttributes: { 'service.name': 'front', 'host.name': 'h1' },
    events: [{ timeUnixNano: msToNsText(t0 + 60_100, 9n), name: 'retry', attributes: { attempt: '2' } }],
  });
  assert.equal(res.body.spans[1].statusMessage, 'card declined');
  assert.equal(res.body.spans[2].startTimeUnixNano, t1Spans[0].startNs, 'nanoseconds kept exactly');
});

test('trace by id: upper-case ids are accepted, malformed ones are 400, unknown ones 404', async () => {
  const upper = await f.get(`/api/v1/traces/${T1.toUpperCase()}`);
  assert.equal(upper.status, 200);
  assert.equal(upper.body.spans.length, 3);
  for (const bad of ['xyz', T1.slice(1), T1 + '0', 'g'.repeat(32)]) {
    const res = await f.get(`/api/v1/traces/${bad}`);
    assert.deepEqual(res, { status: 400, body: { error: 'traceId: must be 32 hexadecimal digits' } }, bad);
  }
  const missing = await f.get(`/api/v1/traces/${'9'.repeat(32)}`);
  assert.equal(missing.status, 404);
  assert.equal(typeof missing.body.error, 'string');
});

test('trace by id: another tenant\'s trace is 404', async () => {
  assert.equal((await f.get(`/api/v1/traces/${T_B}`)).status, 404);
  assert.equal((await f.get(`/api/v1/traces/${T1}`, KEY_B)).status, 404);
  const own = await f.get(`/api/v1/traces/${T_B}`, KEY_B);
  assert.equal(own.status, 200);
  assert.deepEqual(own.body.spans.map((s: { serviceName: string }) => s.serviceName), ['b-front']);
});

test('trace search: summaries newest first', async () => {
  const res = await f.get(`/api/v1/traces?${qs(range)}`);
  assert.equal(res.status, 200);
  assert.deepEqual(res.body.traces.map((t: { traceId: string }) => t.traceId), [T3, T2, T1]);
  const t1 = res.body.traces[2];
  const starts = t1Spans.map((s) => BigInt(s.startNs));
  const ends = t1Spans.map((s) => BigInt(s.startNs) + BigInt(s.durationNs));
  const min = starts.reduce((a, b) => (a < b ? a : b));
  const max = ends.reduce((a, b) => (a > b ? a : b));
  assert.deepEqual(t1, {
    traceId: T1, rootServiceName: 'front', rootSpanName: 'GET /checkout', startTimeUnixNano: min.toString(),
    durationNano: (max - min).toString(), spanCount: 3, errorCount: 1, services: ['api', 'db', 'front'],
  });
  assert.deepEqual({ root: res.body.traces[0].rootServiceName, services: res.body.traces[0].services, errors: res.body.traces[0].errorCount },
    { root: 'worker', services: ['api', 'worker'], errors: 1 });
});

test('trace search: filters match on any one span, all filters on the same span', async () => {
  const ids = async (params: Record<string, string | number>) => {
    const res = await f.get(`/api/v1/traces?${qs({ ...range, ...params })}`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.traces.map((t: { traceId: string }) => t.traceId);
  };
  assert.deepEqual(await ids({ service: 'api' }), [T3, T1]);
  assert.deepEqual(await ids({ service: 'db' }), [T1]);
  assert.deepEqual(await ids({ status: 'error' }), [T3, T1]);
  assert.deepEqual(await ids({ status: 'unset' }), [T3, T2, T1]);
  assert.deepEqual(await ids({ status: 'ok' }), [T1]);
  assert.deepEqual(await ids({ minDurationMs: 280 }), [T3, T1]);
  assert.deepEqual(await ids({ minDurationMs: 950 }), [T3]);
  assert.deepEqual(await ids({ minDurationMs: 0.5, service: 'front', status: 'unset' }), [T2]);
  // Error and >= 950 ms are on different spans of T3: no match.
  assert.deepEqual(await ids({ minDurationMs: 950, status: 'error' }), []);
  assert.deepEqual(await ids({ service: 'nobody' }), []);
  assert.deepEqual(await ids({ limit: 2 }), [T3, T2]);
  assert.deepEqual(await ids({ from: t0 - 20 * 60_000, to: t0 }), [T_OLD]);
});

test('trace search: a trace matched by one span in range comes back whole', async () => {
  // Only T1's db span (start + 3 ms) is in this range; the summary still covers all three spans.
  const res = await f.get(`/api/v1/traces?${qs({ from: t0 + 60_002, to: t0 + 60_010 })}`);
  assert.equal(res.status, 200);
  assert.deepEqual(res.body.traces.map((t: { traceId: string; spanCount: number; rootSpanName: string }) => [t.traceId, t.spanCount, t.rootSpanName]),
    [[T1, 3, 'GET /checkout']]);
});

test('trace search: the default range is the last hour', async () => {
  const res = await f.get('/api/v1/traces');
  assert.equal(res.status, 200);
  assert.deepEqual(res.body.traces.map((t: { traceId: string }) => t.traceId), [T3, T2, T1, T_OLD]);
});

test('trace search: bad parameters give 400 naming them', async () => {
  const cases: Array<[Record<string, string>, string]> = [
    [{ status: 'failed' }, 'status'],
    [{ limit: '0' }, 'limit'],
    [{ limit: '1001' }, 'limit'],
    [{ limit: 'ten' }, 'limit'],
    [{ minDurationMs: '-1' }, 'minDurationMs'],
    [{ minDurationMs: 'slow' }, 'minDurationMs'],
    [{ from: 'soon' }, 'from'],
    [{ service: '' }, 'service'],
    [{ service: 'x'.repeat(300) }, 'service'],
  ];
  for (const [params, name] of cases) {
    const res = await f.get(`/api/v1/traces?${qs(params)}`);
    assert.equal(res.status, 400, JSON.stringify(params));
    assert.ok(res.body.error.startsWith(`${name}: `), `${JSON.stringify(params)} -> ${res.body.error}`);
  }
  const limitMax = await f.get(`/api/v1/traces?${qs({ ...range, limit: 1000 })}`);
  assert.equal(limitMax.status, 200);
});

test('trace search: tenant B sees only its trace', async () => {
  const res = await f.get(`/api/v1/traces?${qs(range)}`, KEY_B);
  assert.deepEqual(res.body.traces.map((t: { traceId: string }) => t.traceId), [T_B]);
});
