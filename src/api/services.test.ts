import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  TENANT_B, createApiFixture, gaugeRow, logRow, minutesAgoMs, msToNsText, qs, spanRow, type ApiFixture,
} from './testing/fixture.ts';

let f: ApiFixture;
const t0 = minutesAgoMs(30);
const range = { from: t0 - 60_000, to: t0 + 10 * 60_000 };

/** Linear interpolation between closest ranks (what ClickHouse's quantile does on small sets). */
function quantile(values: number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  const pos = q * (s.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, s.length - 1);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

const checkoutMs = [10, 20, 30, 40, 100, 7];
const checkoutErrors = new Set([1, 4]);

before(async () => {
  f = await createApiFixture();
  let id = 0;
  const span = (o: Parameters<typeof spanRow>[0]) => spanRow(o);
  const next = () => (++id).toString(16).padStart(16, '0');
  const rows = checkoutMs.map((ms, i) =>
    span({ traceId: String(i).padStart(32, 'c'), spanId: next(), parentSpanId: 'f'.repeat(16), kind: 'Server', service: 'checkout',
      startNs: msToNsText(t0 + i * 1000), durationNs: ms * 1_000_000, status: checkoutErrors.has(i) ? 'Error' : 'Ok' }));
  rows.push(
    // Not an entry span: a client call with a parent does not count as a request of checkout.
    span({ traceId: 'c'.repeat(32), spanId: next(), parentSpanId: '1'.repeat(16), kind: 'Client', service: 'checkout',
      startNs: msToNsText(t0), durationNs: 999_000_000, status: 'Error' }),
    // A root span of any kind is an entry; a consumer span with a parent is one too.
    span({ traceId: 'b'.repeat(32), spanId: next(), kind: 'Internal', service: 'batch', startNs: msToNsText(t0), durationNs: 50_000_000 }),
    span({ traceId: 'd'.repeat(32), spanId: next(), parentSpanId: '2'.repeat(16), kind: 'Consumer', service: 'worker',
      startNs: msToNsText(t0), durationNs: 3_000_000, status: 'Error' }),
    // Only client spans: listed with zero figures.
    span({ traceId: 'e'.repeat(32), spanId: next(), parentSpanId: '3'.repeat(16), kind: 'Client', service: 'db-client',
      startNs: msToNsText(t0), durationNs: 1_000_000 }),
    // Outside the range.
    span({ traceId: 'a'.repeat(32), spanId: next(), kind: 'Server', service: 'old', startNs: msToNsText(t0 - 20 * 60_000), durationNs: 1 }),
    // Tenant B.
    span({ tenant: TENANT_B, traceId: 'a'.repeat(32), spanId: next(), kind: 'Server', service: 'b-only', startNs: msToNsText(t0), durationNs: 1 }),
  );
  await f.store.insert('otel_traces', rows);
  await f.store.insert('otel_logs', [
    logRow({ timeNs: msToNsText(t0 + 5), service: 'log-only', body: 'hello' }),
    logRow({ timeNs: msToNsText(t0 - 20 * 60_000), service: 'old-log', body: 'hello' }),
    logRow({ tenant: TENANT_B, timeNs: msToNsText(t0), service: 'b-log', body: 'hello' }),
  ]);
  await f.store.insert('otel_metrics_gauge', [
    gaugeRow({ name: 'mem', service: 'metric-only', timeNs: msToNsText(t0), value: 1 }),
    gaugeRow({ tenant: TENANT_B, name: 'mem', service: 'b-metric', timeNs: msToNsText(t0), value: 1 }),
  ]);
});

after(async () => {
  await f.close();
});

test('services: entry-span figures, others listed with zeros, sorted by name', async () => {
  const res = await f.get(`/api/v1/services?${qs(range)}`);
  assert.equal(res.status, 200);
  const names = res.body.services.map((s: { name: string }) => s.name);
  assert.deepEqual(names, ['batch', 'checkout', 'db-client', 'log-only', 'metric-only', 'worker']);
  const byName = Object.fromEntries(res.body.services.map((s: { name: string }) => [s.name, s]));

  const checkout = byName.checkout;
  assert.equal(checkout.requests, checkoutMs.length);
  assert.equal(checkout.errors, checkoutErrors.size);
  assert.equal(checkout.errorRate, checkoutErrors.size / checkoutMs.length);
  for (const [field, q] of [['p50Ms', 0.5], ['p95Ms', 0.95], ['p99Ms', 0.99]] as const) {
    assert.ok(Math.abs(checkout[field] - quantile(checkoutMs, q)) < 1e-9, `${field}: ${checkout[field]} vs ${quantile(checkoutMs, q)}`);
  }
  assert.deepEqual(
    { requests: byName.batch.requests, errors: byName.batch.errors, p50Ms: byName.batch.p50Ms },
    { requests: 1, errors: 0, p50Ms: 50 },
  );
  assert.deepEqual({ requests: byName.worker.requests, errors: byName.worker.errors, errorRate: byName.worker.errorRate }, { requests: 1, errors: 1, errorRate: 1 });
  for (const name of ['db-client', 'log-only', 'metric-only']) {
    assert.deepEqual(byName[name], { name, requests: 0, errors: 0, errorRate: 0, p50Ms: 0, p95Ms: 0, p99Ms: 0 });
  }
});

test('services: the range bounds what is listed', async () => {
  const old = await f.get(`/api/v1/services?${qs({ from: t0 - 25 * 60_000, to: t0 - 15 * 60_000 })}`);
  assert.equal(old.status, 200);
  assert.deepEqual(old.body.services.map((s: { name: string }) => s.name), ['old', 'old-log']);
  // RFC 3339 works the same as milliseconds.
  const iso = await f.get(`/api/v1/services?${qs({ from: new Date(range.from).toISOString(), to: new Date(range.to).toISOString() })}`);
  const ms = await f.get(`/api/v1/services?${qs(range)}`);
  assert.deepEqual(iso.body, ms.body);
});

test('services: the default range is the last hour', async () => {
  const res = await f.get('/api/v1/services');
  assert.equal(res.status, 200);
  const names = res.body.services.map((s: { name: string }) => s.name);
  assert.ok(names.includes('checkout') && names.includes('old'), names.join());
});

test('services: tenant B sees only its own services', async () => {
  const res = await f.get(`/api/v1/services?${qs(range)}`, 'key-for-b');
  assert.equal(res.status, 200);
  assert.deepEqual(res.body.services.map((s: { name: string }) => s.name), ['b-log', 'b-metric', 'b-only']);
});

test('services: bad times give 400 naming the parameter', async () => {
  assert.deepEqual(await f.get('/api/v1/services?from=yesterday'), {
    status: 400, body: { error: 'from: must be an RFC 3339 time or Unix milliseconds, between 1970 and 2106' },
  });
  const res = await f.get(`/api/v1/services?${qs({ from: range.to, to: range.from })}`);
  assert.equal(res.status, 400);
  assert.match(res.body.error, /^to: must be after from/);
  const twice = await f.get('/api/v1/services?from=1&from=2');
  assert.equal(twice.status, 400);
  assert.match(twice.body.error, /^from: /);
});
