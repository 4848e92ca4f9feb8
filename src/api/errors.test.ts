import { test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { registerApi } from './index.ts';
import type { Store } from '../storage/index.ts';

/** A store that fails every query, with a message that must not reach the client. */
function failingStore(): Store & { queries: number } {
  return {
    kind: 'chdb',
    queries: 0,
    async query() {
      this.queries++;
      throw new Error('connection refused to 10.0.0.7 (internal detail)');
    },
    async command() {},
    async insert() {},
    async ping() {
      return false;
    },
    async close() {},
  };
}

test('a store failure is a 500 with a generic error, not the internal message', async () => {
  const store = failingStore();
  const app = Fastify({ logger: false });
  await registerApi(app, { store, keys: { resolve: (k) => (k === 'k' ? 't' : null) } });
  try {
    for (const url of ['/api/v1/services', '/api/v1/logs', `/api/v1/traces/${'a'.repeat(32)}`, '/api/v1/metrics/query?name=x']) {
      const res = await app.inject({ method: 'GET', url, headers: { authorization: 'Bearer k' } });
      assert.equal(res.statusCode, 500, url);
      assert.deepEqual(JSON.parse(res.body), { error: 'internal error' });
    }
    assert.ok(store.queries >= 4);
  } finally {
    await app.close();
  }
});

test('routes outside the API are not behind its key check', async () => {
  const app = Fastify({ logger: false });
  app.get('/healthz', async () => ({ ok: true }));
  await registerApi(app, { store: failingStore(), keys: { resolve: () => null } });
  try {
    const res = await app.inject({ method: 'GET', url: '/healthz' });
    assert.equal(res.statusCode, 200);
    const api = await app.inject({ method: 'GET', url: '/api/v1/services' });
    assert.equal(api.statusCode, 401);
  } finally {
    await app.close();
  }
});
