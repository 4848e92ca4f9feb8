import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createStore } from './clickhouse-store.ts';
import { migrate } from './migrate.ts';
import { LOGS_TABLE, METRIC_TABLES, MIGRATIONS, MIGRATIONS_TABLE, SIGNAL_TABLE_SETTINGS, TRACES_TABLE, type Migration } from './schema.ts';
import type { InsertOptions, Store } from './store.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ollystack-migrate-'));
const store = await createStore({ url: `chdb://${dir}` });
after(async () => {
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const retention = { traces: 3, logs: 3, metrics: 7 };

async function tables(): Promise<string[]> {
  const rows = await store.query<{ name: string }>('SELECT name FROM system.tables WHERE database = currentDatabase() ORDER BY name');
  return rows.map((r) => r.name);
}

async function versionRows(): Promise<Array<{ version: number; name: string }>> {
  return store.query(`SELECT version, name FROM ${MIGRATIONS_TABLE} FINAL ORDER BY version`);
}

test('first run creates every table and records each migration once', async () => {
  const result = await migrate(store, retention);
  assert.deepEqual(result.applied, MIGRATIONS.map((m) => m.version));
  const names = await tables();
  for (const t of [TRACES_TABLE, LOGS_TABLE, MIGRATIONS_TABLE, ...Object.values(METRIC_TABLES)]) assert.ok(names.includes(t), `missing table ${t}`);
  assert.deepEqual(await versionRows(), MIGRATIONS.map((m) => ({ version: m.version, name: m.name })));
  const ttl = await store.query<{ create_table_query: string }>(`SELECT create_table_query FROM system.tables WHERE name = {t:String}`, { t: TRACES_TABLE });
  assert.match(ttl[0].create_table_query, /toIntervalDay\(3\)/);
  // Migration 3 set the signal tables' MergeTree settings on the engine (chDB knows them all).
  for (const t of [TRACES_TABLE, LOGS_TABLE, ...Object.values(METRIC_TABLES)]) {
    const [row] = await store.query<{ q: string }>(`SELECT create_table_query AS q FROM system.tables WHERE name = {t:String}`, { t });
    for (const [key, value] of SIGNAL_TABLE_SETTINGS) assert.match(row.q, new RegExp(`${key} = ${value}\\b`), `${t}: ${key}`);
    assert.match(row.q, /non_replicated_deduplication_window = 10000/, `${t} keeps its creation settings`);
  }
});

test('second run applies nothing and adds no rows', async () => {
  const result = await migrate(store, retention);
  assert.deepEqual(result.applied, []);
  const count = await store.query<{ c: string }>(`SELECT count() AS c FROM ${MIGRATIONS_TABLE}`);
  assert.equal(Number(count[0].c), MIGRATIONS.length);
});

test('concurrent runs with a new migration apply it and record it once', async () => {
  let runs = 0;
  const extra: Migration = {
    version: 1000,
    name: 'test table',
    statements: () => {
      runs++;
      return ['CREATE TABLE IF NOT EXISTS migrate_test_extra (x UInt8) ENGINE = MergeTree ORDER BY x'];
    },
  };
  const all = [...MIGRATIONS, extra];
  const [a, b] = await Promise.all([migrate(store, retention, undefined, { migrations: all }), migrate(store, retention, undefined, { migrations: all })]);
  assert.ok(runs >= 1);
  assert.ok(a.applied.includes(1000) || b.applied.includes(1000));
  assert.equal(a.version, 1000);
  assert.ok((await tables()).includes('migrate_test_extra'));
  const rows = await store.query<{ c: string }>(`SELECT count() AS c FROM ${MIGRATIONS_TABLE} FINAL WHERE version = 1000`);
  assert.equal(Number(rows[0].c), 1);
  const again = await migrate(store, retention, undefined, { migrations: all });
  assert.deepEqual(again.applied, []);
});

test('bad retention is rejected before anything runs', async () => {
  await assert.rejects(migrate(store, { traces: 0, logs: 3, metrics: 7 }), /retention/);
});

/** Records what migrate sends, as a cluster-connected server would receive it. */
function recordingStore(): { server: Store; commands: string[]; inserts: Array<{ table: string; rows: unknown[]; options?: InsertOptions }> } {
  const commands: string[] = [];
  const inserts: Array<{ table: string; rows: unknown[]; options?: InsertOptions }> = [];
  const server: Store = {
    kind: 'clickhouse',
    query: async <T>() => [] as T[],
    command: async (sql) => void commands.push(sql),
    insert: async (table, rows, options) => void inserts.push({ table, rows: [...rows], options }),
    ping: async () => true,
    close: async () => undefined,
  };
  return { server, commands, inserts };
}

test('with a cluster, every statement runs ON CLUSTER and the version is recorded with its token', async () => {
  const { server, commands, inserts } = recordingStore();
  const result = await migrate(server, retention, undefined, { cluster: 'prod' });
  assert.deepEqual(result.applied, MIGRATIONS.map((m) => m.version));
  assert.ok(commands[0].startsWith(`CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} ON CLUSTER 'prod' (`), commands[0]);
  // This recording server lists no MergeTree settings, so the settings migration has no statements.
  assert.deepEqual(commands.slice(1), MIGRATIONS.flatMap((m) => m.statements(retention, { cluster: 'prod' }, { mergeTreeSettings: new Set() })));
  for (const sql of commands) assert.match(sql, / ON CLUSTER 'prod' /);
  assert.deepEqual(inserts, MIGRATIONS.map((m) => ({
    table: MIGRATIONS_TABLE,
    rows: [{ version: m.version, name: m.name }],
    options: { dedupToken: `migration:${m.version}` },
  })));
});

test('a bad cluster name is rejected before anything runs', async () => {
  const { server, commands } = recordingStore();
  await assert.rejects(migrate(server, retention, undefined, { cluster: "prod' SETTINGS x=1" }), /cluster: expected a ClickHouse cluster name/);
  assert.deepEqual(commands, []);
});
