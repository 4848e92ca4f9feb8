import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  KEY_A, KEY_B, TENANT_B, createApiFixture, gaugeRow, histogramRow, logRow, minutesAgoMs, msToNsText, qs, spanRow, sumRow, type ApiFixture,
} from './testing/fixture.ts';

let f: ApiFixture;
const t0 = minutesAgoMs(20);
const range = { from: t0 - 60_000, to: t0 + 10 * 60_000 };
const TRACE_A = 'a1'.repeat(16);
const TRACE_B = 'b2'.repeat(16);
/** Appears somewhere in every row of tenant A; must never reach tenant B. */
const SECRET = 'secret-of-a';

const TABLES = ['otel_traces', 'otel_logs', 'otel_metrics_gauge', 'otel_metrics_sum', 'otel_metrics_histogram'];

before(async () => {
  f = await createApiFixture();
  const ts = msToNsText(t0);
  await f.store.insert('otel_traces', [
    spanRow({ traceId: TRACE_A, spanId: 'a'.repeat(16), service: SECRET, name: SECRET, startNs: ts, durationNs: 1_000_000, status: 'Error' }),
    spanRow({ tenant: TENANT_B, traceId: TRACE_B, spanId: 'b'.repeat(16), service: 'b-svc', startNs: ts, durationNs: 1_000_000 }),
  ]);
  await f.store.insert('otel_logs', [
    logRow({ timeNs: ts, service: SECRET, body: `${SECRET} payment failed`, severityNumber: 17, traceId: TRACE_A }),
    logRow({ tenant: TENANT_B, timeNs: ts, service: 'b-svc', body: 'b payment failed', severityNumber: 17, traceId: TRACE_B }),
  ]);
  await f.store.insert('otel_metrics_gauge', [gaugeRow({ name: 'cpu', service: SECRET, attributes: { host: SECRET }, timeNs: ts, value: 1 }),
    gaugeRow({ tenant: TENANT_B, name: 'cpu_b', service: 'b-svc', timeNs: ts, value: 2 })]);
  await f.store.insert('otel_metrics_sum', [sumRow({ name: 'reqs', service: SECRET, timeNs: ts, value: 1, temporality: 1 })]);
  await f.store.insert('otel_metrics_histogram', [histogramRow({ name: 'lat', service: SECRET, timeNs: ts, bounds: [1], counts: [1, 1], temporality: 1 })]);
});

after(async () => {
  await f.close();
});

const ENDPOINTS = [
  `/api/v1/services?${qs(range)}`,
  `/api/v1/traces/${TRACE_A}`,
  `/api/v1/traces?${qs(range)}`,
  `/api/v1/logs?${qs(range)}`,
  `/api/v1/metrics/query?${qs({ ...range, name: 'cpu' })}`,
];

test('every endpoint answers 401 without a valid bearer key, before reading parameters', async () => {
  const badHeaders: Array<Record<string, string>> = [
    {}, { authorization: 'Bearer wrong-key' }, { authorization: `Basic ${KEY_A}` }, { authorization: 'Bearer' },
    { authorization: `Bearer ${KEY_A} extra` }, { authorization: KEY_A }, { 'x-api-key': KEY_A },
  ];
  for (const url of [...ENDPOINTS, '/api/v1/traces/not-hex', '/api/v1/logs?limit=-1']) {
    for (const headers of badHeaders) {
      const res = await f.app.inject({ method: 'GET', url, headers });
      assert.equal(res.statusCode, 401, `${url} ${JSON.stringify(headers)}`);
      const body = JSON.parse(res.body);
      assert.equal(typeof body.error, 'string');
      assert.ok(!res.body.includes(SECRET));
    }
  }
  const ok = await f.app.inject({ method: 'GET', url: ENDPOINTS[0], headers: { authorization: `bearer ${KEY_A}` } });
  assert.equal(ok.statusCode, 200, 'the scheme is case-insensitive');
});

test('tenant A sees its data on every endpoint (so the isolation checks below are meaningful)', async () => {
  for (const url of ENDPOINTS) {
    const res = await f.get(url, KEY_A);
    assert.equal(res.status, 200, url);
    assert.ok(JSON.stringify(res.body).includes(SECRET) || url.includes('metrics'), url);
  }
  const metric = await f.get(`/api/v1/metrics/query?${qs({ ...range, name: 'cpu', groupBy: 'host' })}`, KEY_A);
  assert.ok(JSON.stringify(metric.body).includes(SECRET));
});

test('tenant B never sees tenant A\'s data on any endpoint, whatever it asks', async () => {
  const urls = [
    ...ENDPOINTS,
    `/api/v1/traces?${qs({ ...range, service: SECRET })}`,
    `/api/v1/traces?${qs({ ...range, status: 'error' })}`,
    `/api/v1/logs?${qs({ ...range, service: SECRET })}`,
    `/api/v1/logs?${qs({ ...range, q: SECRET })}`,
    `/api/v1/logs?${qs({ ...range, traceId: TRACE_A })}`,
    `/api/v1/logs?${qs({ ...range, severity: 'error' })}`,
    `/api/v1/metrics/query?${qs({ ...range, name: 'reqs' })}`,
    `/api/v1/metrics/query?${qs({ ...range, name: 'lat' })}`,
    `/api/v1/metrics/query?${qs({ ...range, name: 'cpu', groupBy: 'host,service.name' })}`,
  ];
  for (const url of urls) {
    const res = await f.get(url, KEY_B);
    assert.ok([200, 404].includes(res.status), `${url}: ${res.status}`);
    assert.ok(!JSON.stringify(res.body).includes(SECRET), `${url} leaked: ${JSON.stringify(res.body)}`);
    if (res.status === 200) assert.ok(!JSON.stringify(res.body).includes(TRACE_A), `${url} leaked the trace id`);
  }
  assert.equal((await f.get(`/api/v1/traces/${TRACE_A}`, KEY_B)).status, 404);
  assert.equal((await f.get(`/api/v1/metrics/query?${qs({ ...range, name: 'cpu' })}`, KEY_B)).status, 404);
  // B's own data is there.
  const services = await f.get(`/api/v1/services?${qs(range)}`, KEY_B);
  assert.deepEqual(services.body.services.map((s: { name: string }) => s.name), ['b-svc']);
});

const ATTACKS = [
  "' OR 1=1 --",
  "x'); DROP TABLE otel_logs; --",
  "\\' OR TenantId != '",
  "tenant-b' OR TenantId = 'tenant-a",
  '{tenant:String}',
  "'] , TenantId, ['",
  '1; SELECT * FROM system.tables',
  '`TenantId`',
  '"\u0000\n\r\t',
];

test('SQL injection attempts in every string parameter are harmless', async () => {
  const counts = async () => Promise.all(TABLES.map(async (t) => (await f.store.query<{ c: string }>(`SELECT count() AS c FROM ${t}`))[0].c));
  const before = await counts();
  const targets: Array<(attack: string) => string> = [
    (a) => `/api/v1/services?${qs({ from: a })}`,
    (a) => `/api/v1/services?${qs({ to: a })}`,
    (a) => `/api/v1/traces/${encodeURIComponent(a)}`,
    (a) => `/api/v1/traces?${qs({ ...range, service: a })}`,
    (a) => `/api/v1/traces?${qs({ ...range, status: a })}`,
    (a) => `/api/v1/traces?${qs({ ...range, minDurationMs: a })}`,
    (a) => `/api/v1/traces?${qs({ ...range, limit: a })}`,
    (a) => `/api/v1/logs?${qs({ ...range, service: a })}`,
    (a) => `/api/v1/logs?${qs({ ...range, severity: a })}`,
    (a) => `/api/v1/logs?${qs({ ...range, q: a })}`,
    (a) => `/api/v1/logs?${qs({ ...range, traceId: a })}`,
    (a) => `/api/v1/metrics/query?${qs({ ...range, name: a })}`,
    (a) => `/api/v1/metrics/query?${qs({ ...range, name: 'cpu', groupBy: a })}`,
    (a) => `/api/v1/metrics/query?${qs({ ...range, name: 'cpu', groupBy: `host,${a}` })}`,
    (a) => `/api/v1/metrics/query?${qs({ ...range, name: 'cpu', step: a })}`,
    (a) => `/api/v1/metrics/query?${qs({ ...range, name: 'cpu', agg: a })}`,
  ];
  for (const attack of ATTACKS) {
    for (const target of targets) {
      const url = target(attack);
      for (const key of [KEY_A, KEY_B]) {
        const res = await f.get(url, key);
        assert.ok([200, 400, 404].includes(res.status), `${url}: ${res.status} ${JSON.stringify(res.body)}`);
        if (key === KEY_B) assert.ok(!JSON.stringify(res.body).includes(SECRET), `${url} leaked`);
        if (res.status === 200 && url.includes('service=')) {
          // A service name that matches nothing returns nothing, not everything.
          assert.equal((res.body.traces ?? res.body.logs).length, 0, url);
        }
      }
    }
  }
  // An attack used as a groupBy key is just a key that no point has.
  const key = "host'] OR TenantId != ['";
  const grouped = await f.get(`/api/v1/metrics/query?${qs({ ...range, name: 'cpu', groupBy: key })}`);
  assert.equal(grouped.status, 200);
  assert.deepEqual(grouped.body.series.map((s: { labels: object }) => s.labels), [{ [key]: '' }]);
  assert.deepEqual(await counts(), before, 'no table changed');
});
