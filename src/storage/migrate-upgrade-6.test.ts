/** Upgrading to migration 6 with data in the store (its own process: chDB opens one data folder per process). */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createStore } from './clickhouse-store.ts';
import { migrate } from './migrate.ts';
import { MIGRATIONS, TRACES_TABLE } from './schema.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ollystack-upgrade-6-'));
const store = await createStore({ url: `chdb://${dir}` });
after(async () => {
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const retention = { traces: 3, logs: 3, metrics: 7 };
test('migration 6 (no bloom filters over attribute keys) keeps the rows, and a trace is still found by its id', async () => {
  await migrate(store, retention, undefined, { migrations: MIGRATIONS.filter((m) => m.version < 6) });
  const now = new Date().toISOString().slice(0, 19).replace('T', ' ');
  await store.insert(
    TRACES_TABLE,
    Array.from({ length: 50 }, (_, i) => ({ TenantId: 't', Timestamp: now, TraceId: `trace-${i}`, SpanId: `span-${i}`, SpanName: 'GET /', ServiceName: 'svc', SpanAttributes: { 'http.route': '/' } })),
  );
  const keyIndexes = `SELECT count() AS n FROM system.data_skipping_indices WHERE database = currentDatabase() AND table = {t:String} AND name LIKE '%attr_key'`;
  assert.equal(Number((await store.query<{ n: string }>(keyIndexes, { t: TRACES_TABLE }))[0].n), 2);
  const result = await migrate(store, retention);
  assert.deepEqual(result.applied, [6]);
  assert.equal(Number((await store.query<{ n: string }>(keyIndexes, { t: TRACES_TABLE }))[0].n), 0);
  const found = await store.query<{ SpanId: string }>(`SELECT SpanId FROM ${TRACES_TABLE} WHERE TenantId = 't' AND TraceId = {id:String}`, { id: 'trace-7' });
  assert.deepEqual(found, [{ SpanId: 'span-7' }]);
  assert.equal(Number((await store.query<{ n: string }>(`SELECT count() AS n FROM ${TRACES_TABLE}`))[0].n), 50);
});
