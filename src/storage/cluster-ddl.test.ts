import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createStore } from './clickhouse-store.ts';
import { checkClusterName, createTableStatements, LOCAL_SUFFIX, type TableSpec } from './cluster-ddl.ts';
import { LEDGER_TABLE } from './ledger.ts';
import { migrate, migrationsTableStatements } from './migrate.ts';
import { DEDUP_WINDOW, LOGS_TABLE, METRIC_TABLES, MIGRATIONS, MIGRATIONS_TABLE, SIGNAL_TABLE_SETTINGS, TRACES_TABLE, type ServerFacts } from './schema.ts';

const retention = { traces: 3, logs: 5, metrics: 7 };
const CLUSTER = 'ollystack_prod';
const DATA_TABLES = [TRACES_TABLE, LOGS_TABLE, ...Object.values(METRIC_TABLES)];

// The data tables are migration 1; later migrations add bookkeeping tables, checked below.
const dataMigration = MIGRATIONS.find((m) => m.version === 1)!;
/** A server that knows every setting the migrations set. */
const NEW_SERVER: ServerFacts = { mergeTreeSettings: new Set(SIGNAL_TABLE_SETTINGS.map(([name]) => name)) };
const single = dataMigration.statements(retention, {}, NEW_SERVER);
const clustered = dataMigration.statements(retention, { cluster: CLUSTER }, NEW_SERVER);

// chDB parses the generated DDL (formatQuery) and evaluates the sharding keys on real tables.
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ollystack-cluster-ddl-'));
const store = await createStore({ url: `chdb://${dir}` });
after(async () => {
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function createdName(sql: string): string {
  const m = /^CREATE TABLE IF NOT EXISTS (\w+) /.exec(sql);
  assert.ok(m, `not a CREATE TABLE: ${sql.slice(0, 80)}`);
  return m[1];
}

function shardingKeyOf(table: string): string {
  const sql = clustered.find((s) => createdName(s) === table);
  assert.ok(sql, `no statement creates ${table}`);
  const m = new RegExp(`ENGINE = Distributed\\('${CLUSTER}', currentDatabase\\(\\), '${table}${LOCAL_SUFFIX}', (.+)\\)$`).exec(sql);
  assert.ok(m, `${table} is not Distributed over ${table}${LOCAL_SUFFIX}: ${sql}`);
  return m[1];
}

test('one node: plain MergeTree tables, no cluster clause, non-replicated dedup window', () => {
  assert.deepEqual(single.map(createdName), DATA_TABLES);
  for (const sql of single) {
    assert.doesNotMatch(sql, /ON CLUSTER|Replicated|Distributed|_local/);
    assert.match(sql, /\) ENGINE = MergeTree\n/);
    assert.match(sql, new RegExp(`non_replicated_deduplication_window = ${DEDUP_WINDOW}`));
  }
});

test('cluster: each table is a replicated _local table then a Distributed table under the original name', () => {
  assert.deepEqual(clustered.map(createdName), DATA_TABLES.flatMap((t) => [`${t}${LOCAL_SUFFIX}`, t]));
  for (const table of DATA_TABLES) {
    const local = clustered.find((s) => createdName(s) === `${table}${LOCAL_SUFFIX}`)!;
    assert.ok(local.startsWith(`CREATE TABLE IF NOT EXISTS ${table}_local ON CLUSTER '${CLUSTER}' (`), local);
    assert.ok(local.includes(`ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/${table}_local', '{replica}')\n`), local);
    const dist = clustered.find((s) => createdName(s) === table)!;
    assert.ok(dist.startsWith(`CREATE TABLE IF NOT EXISTS ${table} ON CLUSTER '${CLUSTER}' AS ${table}_local\n`), dist);
    assert.ok(shardingKeyOf(table).startsWith('cityHash64('), dist);
  }
});

test('cluster: the _local table keeps columns, indexes, partitioning, sort key, TTL and settings; dedup window becomes replicated', () => {
  for (const sql of single) {
    const table = createdName(sql);
    const expected = sql
      .replace(`CREATE TABLE IF NOT EXISTS ${table} (`, `CREATE TABLE IF NOT EXISTS ${table}_local ON CLUSTER '${CLUSTER}' (`)
      .replace('\n) ENGINE = MergeTree\n', `\n) ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/${table}_local', '{replica}')\n`)
      .replace(`non_replicated_deduplication_window = ${DEDUP_WINDOW}`, `replicated_deduplication_window = ${DEDUP_WINDOW}`);
    assert.equal(clustered.find((s) => createdName(s) === `${table}_local`), expected);
  }
});

test('cluster: the migrations table is one replicated table on every node, no Distributed', () => {
  assert.deepEqual(migrationsTableStatements(), [
    `CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} (
  version UInt32,
  name String,
  applied_at DateTime64(3) DEFAULT now64(3)
) ENGINE = ReplacingMergeTree
ORDER BY version
SETTINGS non_replicated_deduplication_window = 1000`,
  ]);
  const onCluster = migrationsTableStatements({ cluster: CLUSTER });
  assert.equal(onCluster.length, 1);
  assert.ok(onCluster[0].startsWith(`CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} ON CLUSTER '${CLUSTER}' (`));
  assert.ok(onCluster[0].includes(`ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/all/{database}/${MIGRATIONS_TABLE}', '{shard}-{replica}')\n`));
  assert.ok(onCluster[0].endsWith('SETTINGS replicated_deduplication_window = 1000'));
});

test('cluster: the ingest ledger is one replicated table on every node, no Distributed', () => {
  const ledger = MIGRATIONS.find((m) => m.version === 2)!;
  assert.deepEqual(ledger.statements(retention, {}, NEW_SERVER).map(createdName), [LEDGER_TABLE]);
  const onCluster = ledger.statements(retention, { cluster: CLUSTER }, NEW_SERVER);
  assert.equal(onCluster.length, 1);
  assert.ok(onCluster[0].startsWith(`CREATE TABLE IF NOT EXISTS ${LEDGER_TABLE} ON CLUSTER '${CLUSTER}' (`), onCluster[0]);
  assert.ok(onCluster[0].includes(`ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/all/{database}/${LEDGER_TABLE}', '{shard}-{replica}')`), onCluster[0]);
  assert.doesNotMatch(onCluster[0], /Distributed/);
});

test('every cluster statement is valid ClickHouse syntax', async () => {
  for (const sql of [...MIGRATIONS.flatMap((m) => m.statements(retention, { cluster: CLUSTER }, NEW_SERVER)), ...migrationsTableStatements({ cluster: CLUSTER })]) {
    const [row] = await store.query<{ f: string }>('SELECT formatQuery({q:String}) AS f', { q: sql });
    assert.match(row.f, new RegExp(`ON CLUSTER ${CLUSTER}`), sql);
  }
});

test('table settings (migration 3): every signal table, its _local tables on a cluster, only what the server knows', () => {
  const tuning = MIGRATIONS.find((m) => m.version === 3)!;
  const list = SIGNAL_TABLE_SETTINGS.map(([k, v]) => `${k} = ${v}`).join(', ');
  assert.deepEqual(tuning.statements(retention, {}, NEW_SERVER), DATA_TABLES.map((t) => `ALTER TABLE ${t} MODIFY SETTING ${list}`));
  assert.deepEqual(
    tuning.statements(retention, { cluster: CLUSTER }, NEW_SERVER),
    DATA_TABLES.map((t) => `ALTER TABLE ${t}${LOCAL_SUFFIX} ON CLUSTER '${CLUSTER}' MODIFY SETTING ${list}`),
  );
  // An older server without the merge selector's settings gets the one it has; one with none, nothing.
  const older = tuning.statements(retention, {}, { mergeTreeSettings: new Set(['min_rows_for_wide_part', 'index_granularity']) });
  assert.deepEqual(older, DATA_TABLES.map((t) => `ALTER TABLE ${t} MODIFY SETTING min_rows_for_wide_part = 400000`));
  assert.deepEqual(tuning.statements(retention, {}, { mergeTreeSettings: new Set() }), []);
});

test('the batch id column (migration 4): added with its index to every signal table; on a cluster to the _local tables, then the Distributed ones', async () => {
  const added = MIGRATIONS.find((m) => m.version === 4)!;
  const column = 'IngestBatch UInt64 DEFAULT 0 CODEC(Delta, ZSTD(1))';
  const index = 'idx_ingest_batch IngestBatch TYPE minmax GRANULARITY 1';
  assert.deepEqual(
    added.statements(retention, {}, NEW_SERVER),
    DATA_TABLES.map((t) => `ALTER TABLE ${t} ADD COLUMN IF NOT EXISTS ${column}, ADD INDEX IF NOT EXISTS ${index}`),
  );
  assert.deepEqual(
    added.statements(retention, { cluster: CLUSTER }, NEW_SERVER),
    DATA_TABLES.flatMap((t) => [
      `ALTER TABLE ${t}${LOCAL_SUFFIX} ON CLUSTER '${CLUSTER}' ADD COLUMN IF NOT EXISTS ${column}, ADD INDEX IF NOT EXISTS ${index}`,
      `ALTER TABLE ${t} ON CLUSTER '${CLUSTER}' ADD COLUMN IF NOT EXISTS IngestBatch UInt64 DEFAULT 0`,
    ]),
  );
  // On one node (chDB), after migrating: the column and its index on every signal table.
  await migrate(store, retention);
  for (const table of DATA_TABLES) {
    const [col] = await store.query<{ type: string; default_expression: string }>(
      `SELECT type, default_expression FROM system.columns WHERE database = currentDatabase() AND table = {t:String} AND name = 'IngestBatch'`,
      { t: table },
    );
    assert.deepEqual(col, { type: 'UInt64', default_expression: '0' }, table);
    const idx = await store.query(`SELECT type FROM system.data_skipping_indices WHERE database = currentDatabase() AND table = {t:String} AND name = 'idx_ingest_batch'`, { t: table });
    assert.deepEqual(idx, [{ type: 'minmax' }], table);
  }
});

test('resource and scope columns as LowCardinality (migration 5): every signal table; on a cluster the _local tables, then the Distributed ones', async () => {
  const retyped = MIGRATIONS.find((m) => m.version === 5)!;
  const res = 'MODIFY COLUMN ResourceAttributes Map(LowCardinality(String), LowCardinality(String))';
  const name = 'MODIFY COLUMN ScopeName LowCardinality(String)';
  const version = 'MODIFY COLUMN ScopeVersion LowCardinality(String)';
  const codec = ' CODEC(ZSTD(1))';
  const columns = (t: string, suffix: string) => (t === LOGS_TABLE ? [res, name] : [res, name, version]).map((c) => c + suffix).join(', ');
  assert.deepEqual(retyped.statements(retention, {}, NEW_SERVER), DATA_TABLES.map((t) => `ALTER TABLE ${t} ${columns(t, codec)}`));
  assert.deepEqual(
    retyped.statements(retention, { cluster: CLUSTER }, NEW_SERVER),
    DATA_TABLES.flatMap((t) => [`ALTER TABLE ${t}${LOCAL_SUFFIX} ON CLUSTER '${CLUSTER}' ${columns(t, codec)}`, `ALTER TABLE ${t} ON CLUSTER '${CLUSTER}' ${columns(t, '')}`]),
  );
  // On one node (chDB), after migrating: the new types on every signal table.
  await migrate(store, retention);
  for (const table of DATA_TABLES) {
    const types = await store.query<{ name: string; type: string }>(
      `SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = {t:String} AND name IN ('ResourceAttributes', 'ScopeName', 'ScopeVersion') ORDER BY name`,
      { t: table },
    );
    assert.deepEqual(
      types,
      [
        { name: 'ResourceAttributes', type: 'Map(LowCardinality(String), LowCardinality(String))' },
        { name: 'ScopeName', type: 'LowCardinality(String)' },
        { name: 'ScopeVersion', type: 'LowCardinality(String)' },
      ],
      table,
    );
  }
});

test('no bloom filters over attribute keys (migration 6): dropped from every signal table, on a cluster from the _local tables; the other indexes stay', async () => {
  const dropped = MIGRATIONS.find((m) => m.version === 6)!;
  const keys = (t: string) => ['idx_res_attr_key', t === TRACES_TABLE ? 'idx_span_attr_key' : t === LOGS_TABLE ? 'idx_log_attr_key' : 'idx_attr_key'];
  const clause = (t: string) => keys(t).map((i) => `DROP INDEX IF EXISTS ${i}`).join(', ');
  assert.deepEqual(dropped.statements(retention, {}, NEW_SERVER), DATA_TABLES.map((t) => `ALTER TABLE ${t} ${clause(t)}`));
  assert.deepEqual(
    dropped.statements(retention, { cluster: CLUSTER }, NEW_SERVER),
    DATA_TABLES.map((t) => `ALTER TABLE ${t}${LOCAL_SUFFIX} ON CLUSTER '${CLUSTER}' ${clause(t)}`),
  );
  // Migration 1 made them; after every migration, what is left on one node (chDB):
  const created = single.find((sql) => sql.includes(`CREATE TABLE IF NOT EXISTS ${TRACES_TABLE} `))!;
  assert.ok(keys(TRACES_TABLE).every((i) => created.includes(`INDEX ${i} `)), 'migration 1 creates the key indexes');
  await migrate(store, retention);
  const left = (t: string) => (t === TRACES_TABLE ? ['idx_duration', 'idx_ingest_batch', 'idx_trace_id'] : t === LOGS_TABLE ? ['idx_body', 'idx_ingest_batch', 'idx_trace_id'] : ['idx_ingest_batch']);
  for (const table of DATA_TABLES) {
    const indexes = await store.query<{ name: string }>(`SELECT name FROM system.data_skipping_indices WHERE database = currentDatabase() AND table = {t:String} ORDER BY name`, { t: table });
    assert.deepEqual(indexes.map((i) => i.name), left(table), table);
  }
});

test('sharding keys: one trace on one shard, one metric series on one shard, logs spread', async () => {
  assert.equal(shardingKeyOf(TRACES_TABLE), 'cityHash64(TenantId, TraceId)');
  await migrate(store, retention);
  // Recent times: rows older than the TTL would be dropped under the test.
  const second = new Date().toISOString().slice(0, 19).replace('T', ' ');
  const t = (ns: number) => `${second}.${String(ns).padStart(9, '0')}`;
  await store.insert(TRACES_TABLE, [
    { TenantId: 'a', TraceId: 'trace-1', SpanId: 's1', ServiceName: 'checkout', Timestamp: t(1) },
    { TenantId: 'a', TraceId: 'trace-1', SpanId: 's2', ServiceName: 'payments', Timestamp: t(2) },
    { TenantId: 'a', TraceId: 'trace-2', SpanId: 's3', ServiceName: 'checkout', Timestamp: t(3) },
  ]);
  const traces = await store.query<{ TraceId: string; keys: string }>(
    `SELECT TraceId, uniqExact(${shardingKeyOf(TRACES_TABLE)}) AS keys FROM ${TRACES_TABLE} GROUP BY TraceId ORDER BY TraceId`,
  );
  assert.deepEqual(traces.map((r) => [r.TraceId, Number(r.keys)]), [['trace-1', 1], ['trace-2', 1]]);
  const [traceKeys] = await store.query<{ n: string }>(`SELECT uniqExact(${shardingKeyOf(TRACES_TABLE)}) AS n FROM ${TRACES_TABLE}`);
  assert.equal(Number(traceKeys.n), 2);

  const point = (attrs: Record<string, string>, ns: number, value: number) => ({
    TenantId: 'a',
    ServiceName: 'api',
    MetricName: 'requests',
    Attributes: attrs,
    TimeUnix: t(ns),
    Value: value,
  });
  await store.insert(METRIC_TABLES.sum, [
    point({ route: '/a', code: '200' }, 1, 1),
    point({ route: '/a', code: '200' }, 2, 5),
    point({ route: '/b', code: '200' }, 3, 7),
  ]);
  const series = await store.query<{ route: string; keys: string }>(
    `SELECT Attributes['route'] AS route, uniqExact(${shardingKeyOf(METRIC_TABLES.sum)}) AS keys FROM ${METRIC_TABLES.sum} GROUP BY route ORDER BY route`,
  );
  assert.deepEqual(series.map((r) => [r.route, Number(r.keys)]), [['/a', 1], ['/b', 1]]);
  const [seriesKeys] = await store.query<{ n: string }>(`SELECT uniqExact(${shardingKeyOf(METRIC_TABLES.sum)}) AS n FROM ${METRIC_TABLES.sum}`);
  assert.equal(Number(seriesKeys.n), 2);

  // Logs of one service without a trace id still get different keys record by record.
  await store.insert(LOGS_TABLE, [1, 2, 3, 4].map((ns) => ({ TenantId: 'a', ServiceName: 'api', Body: 'x', Timestamp: t(ns) })));
  const [logKeys] = await store.query<{ n: string }>(`SELECT uniqExact(${shardingKeyOf(LOGS_TABLE)}) AS n FROM ${LOGS_TABLE}`);
  assert.equal(Number(logKeys.n), 4);
});

test('cluster names must be identifiers: anything else is refused before it reaches DDL text', async () => {
  const spec: TableSpec = {
    name: 'x',
    body: '\n  a UInt8',
    engine: 'MergeTree',
    orderBy: 'a',
    settings: (w) => `${w} = 1`,
    placement: { kind: 'sharded', shardingKey: 'a' },
  };
  for (const bad of ['', 'prod-eu', '1st', "c' ON CLUSTER x", 'a b', 'x'.repeat(65), 'ü']) {
    assert.throws(() => createTableStatements(spec, { cluster: bad }), /cluster: expected a ClickHouse cluster name/);
    await assert.rejects(migrate(store, retention, undefined, { cluster: bad }), /cluster: expected a ClickHouse cluster name/);
  }
  assert.equal(checkClusterName('prod_EU_2'), 'prod_EU_2');
  assert.equal(createTableStatements(spec, { cluster: 'x'.repeat(64) }).length, 2);
});

test('engine arguments go after the replicated path and replica', () => {
  const spec: TableSpec = {
    name: 'versioned',
    body: '\n  K UInt64,\n  V UInt64',
    engine: 'ReplacingMergeTree',
    engineArgs: ['V'],
    orderBy: 'K',
    settings: (w) => `${w} = 10`,
    placement: { kind: 'sharded', shardingKey: 'K' },
  };
  assert.match(createTableStatements(spec)[0], /\) ENGINE = ReplacingMergeTree\(V\)\n/);
  assert.match(createTableStatements(spec, { cluster: CLUSTER })[0], /ENGINE = ReplicatedReplacingMergeTree\('\/clickhouse\/tables\/\{shard\}\/\{database\}\/versioned_local', '\{replica\}', V\)\n/);
});
