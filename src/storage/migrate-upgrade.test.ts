/** Upgrading a store that holds data: what later migrations change must keep every row as it was. */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createStore } from './clickhouse-store.ts';
import { migrate } from './migrate.ts';
import { LOGS_TABLE, METRIC_TABLES, MIGRATIONS, TRACES_TABLE } from './schema.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ollystack-upgrade-'));
const store = await createStore({ url: `chdb://${dir}` });
after(async () => {
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const retention = { traces: 3, logs: 3, metrics: 7 };
const TABLES = [TRACES_TABLE, LOGS_TABLE, METRIC_TABLES.gauge];

async function rows(table: string): Promise<string[]> {
  const out = await store.query<{ line: string }>(`SELECT formatRow('JSONEachRow', *) AS line FROM ${table} ORDER BY line`);
  return out.map((r) => r.line);
}

test('migration 5 (resource and scope columns as LowCardinality) keeps the rows written before it', async () => {
  await migrate(store, retention, undefined, { migrations: MIGRATIONS.filter((m) => m.version < 5) });
  const now = new Date().toISOString().slice(0, 19).replace('T', ' ');
  const common = (i: number) => ({
    TenantId: 't',
    ResourceAttributes: { 'service.name': `svc-${i % 2}`, 'host.name': `host-${i}`, empty: '' },
    ScopeName: i % 2 ? 'io.opentelemetry.http' : '',
    ScopeVersion: `1.${i}`,
    ServiceName: `svc-${i % 2}`,
  });
  for (let i = 0; i < 5; i++) {
    await store.insert(TRACES_TABLE, [{ ...common(i), Timestamp: now, TraceId: `trace-${i}`, SpanId: `span-${i}`, SpanName: 'GET /' }]);
    await store.insert(LOGS_TABLE, [{ ...common(i), Timestamp: now, Body: `line ${i}` }]);
    await store.insert(METRIC_TABLES.gauge, [{ ...common(i), TimeUnix: now, MetricName: 'm', Value: i }]);
  }
  const before = await Promise.all(TABLES.map(rows));
  assert.ok(before.every((r) => r.length === 5));
  const result = await migrate(store, retention);
  assert.ok(result.applied.includes(5));
  assert.deepEqual(await Promise.all(TABLES.map(rows)), before);
  // Until the background rewrite ends parts may still hold the old types; after it, the same rows.
  for (const table of TABLES) await store.command(`OPTIMIZE TABLE ${table} FINAL`);
  assert.deepEqual(await Promise.all(TABLES.map(rows)), before);
});
