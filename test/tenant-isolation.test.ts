/** Data written with tenant A's key is invisible to tenant B's key on every endpoint, and the payload cannot choose its tenant. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { gaugeRequest, logRequest, post, traceRequest } from './fixtures.ts';
import { apiGet, randomHex, startTestStack, waitFor, type TestStack } from './helpers.ts';

const ACME_KEY = 'acme-key-000000000000';
let s: TestStack;
before(async () => {
  s = await startTestStack({ tenants: [{ id: 'acme', apiKeys: [ACME_KEY] }] });
});
after(async () => {
  await s?.stop();
});

async function write(key: string, service: string, traceId: string, word: string) {
  // The payload claims to be the other tenant in every way a payload could: it must not matter.
  const spoof = { 'tenant.id': 'acme', 'ollystack.tenant': 'acme', tenant: 'acme' };
  for (const [path, body] of [
    ['/v1/traces', traceRequest(service, traceId, 3, spoof)],
    ['/v1/logs', logRequest(service, `failure ${word}`, traceId, spoof)],
    ['/v1/metrics', gaugeRequest(service, `${service}.queue`, 5, spoof)],
  ] as const) {
    const res = await post(s.gateway, path, key, body);
    assert.equal(res.status, 200, `${path}: ${await res.text()}`);
  }
}

async function visible(key: string, service: string, traceId: string, word: string) {
  const services = await apiGet(s.api, '/api/v1/services', key);
  const traceById = await apiGet(s.api, `/api/v1/traces/${traceId}`, key);
  const search = await apiGet(s.api, `/api/v1/traces?service=${service}`, key);
  const logs = await apiGet(s.api, `/api/v1/logs?q=${word}`, key);
  const logsByTrace = await apiGet(s.api, `/api/v1/logs?traceId=${traceId}`, key);
  const metric = await apiGet(s.api, `/api/v1/metrics/query?name=${service}.queue`, key);
  return {
    service: services.status === 200 && services.body.services.some((x: any) => x.name === service),
    traceById: traceById.status === 200 && traceById.body.spans.length > 0,
    search: search.status === 200 && search.body.traces.some((t: any) => t.traceId === traceId),
    logs: logs.status === 200 && logs.body.logs.length > 0,
    logsByTrace: logsByTrace.status === 200 && logsByTrace.body.logs.length > 0,
    metric: metric.status === 200 && metric.body.series.length > 0,
    traceByIdStatus: traceById.status,
    metricStatus: metric.status,
  };
}

test('each tenant sees only its own data on every endpoint', async () => {
  const a = { service: 'svc-default', traceId: randomHex(16), word: `w${randomHex(6)}` };
  const b = { service: 'svc-acme', traceId: randomHex(16), word: `w${randomHex(6)}` };
  await write(s.key, a.service, a.traceId, a.word);
  await write(ACME_KEY, b.service, b.traceId, b.word);

  for (const [key, mine] of [[s.key, a], [ACME_KEY, b]] as const) {
    await waitFor(`own data for ${mine.service}`, async () => {
      const v = await visible(key, mine.service, mine.traceId, mine.word);
      return v.service && v.traceById && v.search && v.logs && v.logsByTrace && v.metric;
    });
  }
  for (const [key, theirs] of [[s.key, b], [ACME_KEY, a]] as const) {
    const v = await visible(key, theirs.service, theirs.traceId, theirs.word);
    assert.deepEqual(
      { service: v.service, traceById: v.traceById, search: v.search, logs: v.logs, logsByTrace: v.logsByTrace, metric: v.metric },
      { service: false, traceById: false, search: false, logs: false, logsByTrace: false, metric: false },
    );
    assert.equal(v.traceByIdStatus, 404);
    assert.equal(v.metricStatus, 404);
  }
});

test('no key or an unknown key is refused on every endpoint', async () => {
  for (const path of ['/api/v1/services', `/api/v1/traces/${randomHex(16)}`, '/api/v1/traces', '/api/v1/logs', '/api/v1/metrics/query?name=x']) {
    assert.equal((await fetch(s.api + path)).status, 401, path);
    assert.equal((await apiGet(s.api, path, 'not-a-real-key-000000')).status, 401, path);
  }
  const res = await post(s.gateway, '/v1/traces', 'not-a-real-key-000000', traceRequest('x', randomHex(16), 1));
  assert.equal(res.status, 401);
});
