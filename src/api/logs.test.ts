import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { KEY_B, TENANT_B, createApiFixture, logRow, minutesAgoMs, msToNsText, qs, type ApiFixture, type LogSpec } from './testing/fixture.ts';

let f: ApiFixture;
const t0 = minutesAgoMs(30);
const range = { from: t0 - 60_000, to: t0 + 10 * 60_000 };
const TRACE = 'ab'.repeat(16);

// Severity numbers per OTLP: DEBUG 5, INFO 9, WARN 13, ERROR 17, FATAL 21; text-only records have 0.
const logs: LogSpec[] = [
  { timeNs: msToNsText(t0, 1n), service: 'api', severityNumber: 9, severityText: 'INFO', body: 'Request served in 12ms',
    traceId: TRACE, spanId: 'cd'.repeat(8), attributes: { 'http.route': '/pay' } },
  { timeNs: msToNsText(t0, 2n), service: 'api', severityNumber: 17, severityText: 'ERROR', body: 'Payment FAILED: card-declined for user 42' },
  { timeNs: msToNsText(t0 + 1000), service: 'worker', severityNumber: 13, severityText: 'WARN', body: 'payment retry scheduled' },
  { timeNs: msToNsText(t0 + 2000), service: 'worker', severityNumber: 0, severityText: 'warning', body: 'queue is slow' },
  { timeNs: msToNsText(t0 + 3000), service: 'worker', severityNumber: 21, severityText: 'FATAL', body: 'out of memory', traceId: TRACE },
  { timeNs: msToNsText(t0 + 4000), service: 'api', severityNumber: 5, severityText: 'DEBUG', body: 'payments cache hit' },
  { timeNs: msToNsText(t0 - 20 * 60_000), service: 'api', severityNumber: 17, severityText: 'ERROR', body: 'old payment failed' },
];

const bodies = (res: { body: { logs: Array<{ body: string }> } }) => res.body.logs.map((l) => l.body);

before(async () => {
  f = await createApiFixture();
  await f.store.insert('otel_logs', [...logs.map(logRow),
    logRow({ tenant: TENANT_B, timeNs: msToNsText(t0), service: 'api', severityNumber: 17, body: 'tenant b payment failed', traceId: TRACE })]);
});

after(async () => {
  await f.close();
});

async function search(params: Record<string, string | number>, key?: string) {
  const res = await f.get(`/api/v1/logs?${qs({ ...range, ...params })}`, key);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res;
}

test('logs: newest first with every field', async () => {
  const res = await search({});
  const inRange = logs.filter((l) => BigInt(l.timeNs) >= BigInt(range.from) * 1_000_000n)
    .sort((a, b) => (BigInt(a.timeNs) > BigInt(b.timeNs) ? -1 : 1));
  assert.deepEqual(bodies(res), inRange.map((l) => l.body));
  const served = res.body.logs.find((l: { body: string }) => l.body.startsWith('Request served'));
  assert.deepEqual(served, {
    timestampUnixNano: logs[0].timeNs, serviceName: 'api', severityText: 'INFO', severityNumber: 9, body: 'Request served in 12ms',
    traceId: TRACE, spanId: 'cd'.repeat(8), attributes: { 'http.route': '/pay' }, resourceAttributes: { 'service.name': 'api' },
  });
});

test('logs: q needs every word as a whole token, any case', async () => {
  assert.deepEqual(bodies(await search({ q: 'payment' })), ['payment retry scheduled', 'Payment FAILED: card-declined for user 42']);
  assert.deepEqual(bodies(await search({ q: 'PAYMENT failed' })), ['Payment FAILED: card-declined for user 42']);
  assert.deepEqual(bodies(await search({ q: 'card-declined' })), ['Payment FAILED: card-declined for user 42']);
  assert.deepEqual(bodies(await search({ q: 'paym' })), [], 'a prefix is not a word');
  assert.deepEqual(bodies(await search({ q: '42 user' })), ['Payment FAILED: card-declined for user 42']);
  assert.deepEqual(bodies(await search({ q: 'payment nothing' })), []);
});

test('logs: severity means that level or worse, also for records with only a text', async () => {
  assert.deepEqual(bodies(await search({ severity: 'warn' })), ['out of memory', 'queue is slow', 'payment retry scheduled', 'Payment FAILED: card-declined for user 42']);
  assert.deepEqual(bodies(await search({ severity: 'ERROR' })), ['out of memory', 'Payment FAILED: card-declined for user 42']);
  assert.deepEqual(bodies(await search({ severity: 'fatal' })), ['out of memory']);
  assert.equal((await search({ severity: 'trace' })).body.logs.length, 6, 'every record in range has a severity');
  assert.equal((await search({ severity: 'debug' })).body.logs.length, 6);
  assert.deepEqual(bodies(await search({ severity: 'info' })).includes('payments cache hit'), false);
  assert.equal((await search({ severity: 'info' })).body.logs.length, 5);
});

test('logs: service, traceId, limit and range filters', async () => {
  assert.deepEqual(bodies(await search({ service: 'worker' })), ['out of memory', 'queue is slow', 'payment retry scheduled']);
  assert.deepEqual(bodies(await search({ traceId: TRACE.toUpperCase() })), ['out of memory', 'Request served in 12ms']);
  assert.deepEqual(bodies(await search({ limit: 2 })), ['payments cache hit', 'out of memory']);
  assert.deepEqual(bodies(await search({ service: 'api', severity: 'error', q: 'payment' })), ['Payment FAILED: card-declined for user 42']);
  // [from, to): a record exactly at `to` is left out, one exactly at `from` is in.
  const edge = await search({ from: t0 + 1000, to: t0 + 3000 });
  assert.deepEqual(bodies(edge), ['queue is slow', 'payment retry scheduled']);
  const old = await search({ from: t0 - 30 * 60_000, to: t0 - 10 * 60_000 });
  assert.deepEqual(bodies(old), ['old payment failed']);
  // Nanosecond-precise bounds in RFC 3339.
  const iso = new Date(t0).toISOString().replace('Z', '');
  assert.deepEqual(bodies(await search({ from: `${iso.slice(0, 19)}.000000002Z`, to: `${iso.slice(0, 19)}.000000003Z` })), ['Payment FAILED: card-declined for user 42']);
});

test('logs: tenant B sees only its own records', async () => {
  assert.deepEqual(bodies(await search({}, KEY_B)), ['tenant b payment failed']);
  assert.deepEqual(bodies(await search({ traceId: TRACE }, KEY_B)), ['tenant b payment failed']);
});

test('logs: bad parameters give 400 naming them', async () => {
  const cases: Array<[Record<string, string>, string]> = [
    [{ severity: 'loud' }, 'severity'],
    [{ q: '!!! ---' }, 'q'],
    [{ q: '' }, 'q'],
    [{ traceId: 'abc' }, 'traceId'],
    [{ limit: '5000' }, 'limit'],
    [{ to: 'later' }, 'to'],
  ];
  for (const [params, name] of cases) {
    const res = await f.get(`/api/v1/logs?${qs(params)}`);
    assert.equal(res.status, 400, JSON.stringify(params));
    assert.ok(res.body.error.startsWith(`${name}: `), `${JSON.stringify(params)} -> ${res.body.error}`);
  }
});
