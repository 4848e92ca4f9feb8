/** The storage consumer end to end: embedded bus -> consumer -> chDB. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Registry } from 'prom-client';
import { createEmbeddedBus, HEADER_TENANT, type Bus } from '../bus/index.ts';
import { createStore } from './clickhouse-store.ts';
import { createStorageConsumer } from './consumer.ts';
import { LEDGER_TABLE } from './ledger.ts';
import { migrate } from './migrate.ts';
import { LOGS_TABLE, METRIC_TABLES, TRACES_TABLE } from './schema.ts';
import type { InsertOptions, RawBody, RawFormat, Store } from './store.ts';
import { logRecord, metricRecord, traceRecord, waitFor } from './test-records.ts';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ollystack-consumer-'));
let bus: Bus;
let store: Store;
const TOPICS = ['traces', 'metrics', 'logs'];

before(async () => {
  bus = await createEmbeddedBus({ dir: path.join(root, 'bus') });
  await bus.ensureTopics(TOPICS.map((name) => ({ name, partitions: 2, retentionMs: 86_400_000 })));
  store = await createStore({ url: `chdb://${path.join(root, 'chdb')}` });
  await migrate(store, { traces: 7, logs: 7, metrics: 7 });
});
after(async () => {
  await bus.close();
  await store.close();
  fs.rmSync(root, { recursive: true, force: true });
});

async function counts(table: string, tenant: string): Promise<{ rows: number; distinct: number }> {
  const attr = table === TRACES_TABLE ? 'SpanAttributes' : table === LOGS_TABLE ? 'LogAttributes' : 'Attributes';
  const r = await store.query<{ rows: string; distinct: string }>(
    `SELECT count() AS rows, uniqExact(${attr}['seq']) AS distinct FROM ${table} WHERE TenantId = {t:String}`,
    { t: tenant },
  );
  return { rows: Number(r[0].rows), distinct: Number(r[0].distinct) };
}

async function lagZero(groupId: string, on: Bus = bus): Promise<boolean> {
  for (const t of TOPICS) for (const p of await on.lag(groupId, t)) if (p.lag > 0) return false;
  return true;
}

/** Produces `records` records per signal, `perRecord` rows each, keys spread over partitions. */
async function produceAll(tenant: string, records: number, perRecord: number, on: Bus = bus): Promise<void> {
  const traces = [];
  const logs = [];
  const metrics = [];
  for (let i = 0; i < records; i++) {
    const seq = i * perRecord;
    traces.push({ ...traceRecord(tenant, seq, perRecord), key: Buffer.from(`k${i}`) });
    logs.push({ ...logRecord(tenant, seq, perRecord), key: Buffer.from(`k${i}`) });
    metrics.push({ ...metricRecord(tenant, seq, perRecord), key: Buffer.from(`k${i}`) });
  }
  await on.produce('traces', traces);
  await on.produce('logs', logs);
  await on.produce('metrics', metrics);
}

/** The shared store's calls, for test doubles that change some of them. */
function passThrough(): Store {
  return {
    kind: store.kind,
    query: (sql, params) => store.query(sql, params),
    command: (sql, params) => store.command(sql, params),
    ping: () => store.ping(),
    close: async () => {},
    insert: (table, rows, options) => store.insert(table, rows, options),
    insertRaw: (table, format, body, options) => store.insertRaw!(table, format, body, options),
  };
}

async function assertExactlyOnce(tenant: string, expected: number): Promise<void> {
  for (const table of [TRACES_TABLE, LOGS_TABLE, METRIC_TABLES.gauge, METRIC_TABLES.sum]) {
    assert.deepEqual(await counts(table, tenant), { rows: expected, distinct: expected }, table);
  }
}

test('every record lands once; undecodable and tenant-less records are skipped and counted', async () => {
  const registry = new Registry();
  await produceAll('t-e2e', 60, 3);
  await bus.produce('traces', [
    { key: Buffer.from('bad'), value: Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f]), headers: { [HEADER_TENANT]: 't-e2e' } },
    { ...traceRecord('t-e2e', 100_000, 1), headers: {} },
  ]);
  const consumer = createStorageConsumer({ bus, store, groupId: 'g-e2e', batchMaxRows: 20, batchMaxMs: 30, registry });
  consumer.start();
  try {
    await waitFor(() => lagZero('g-e2e'), 20_000, 'the consumer to commit everything');
    await consumer.flushed();
  } finally {
    await consumer.stop();
  }
  await assertExactlyOnce('t-e2e', 180);
  const text = await registry.metrics();
  assert.match(text, /ollystack_storage_records_dropped_total\{reason="decode"\} 1/);
  assert.match(text, /ollystack_storage_records_dropped_total\{reason="tenant"\} 1/);
  assert.match(text, new RegExp(`ollystack_storage_rows_written_total\\{table="${TRACES_TABLE}"\\} 180`));
  // Small batches: the 20-row cap must have split the work.
  const batches = /ollystack_storage_batches_total\{topic="traces"\} (\d+)/.exec(text);
  assert.ok(batches && Number(batches[1]) >= 9, `expected >= 9 trace batches, got ${batches?.[1]}`);
});

test('a failing store is retried with the same batch: nothing lost, nothing doubled', async () => {
  await produceAll('t-fail', 40, 2);
  let calls = 0;
  let failures = 0;
  const flaky: Store = {
    kind: store.kind,
    query: (sql, params) => store.query(sql, params),
    command: (sql, params) => store.command(sql, params),
    ping: () => store.ping(),
    close: async () => {},
    async insert(table, rows, options) {
      const n = ++calls;
      // Fails some inserts before writing and some after (a lost acknowledgement):
      // the retry must neither lose the first kind nor double the second.
      if (n <= 12 && n % 3 === 1) {
        failures++;
        throw new Error('simulated store outage');
      }
      await store.insert(table, rows, options);
      if (n <= 12 && n % 3 === 2) {
        failures++;
        throw new Error('simulated lost acknowledgement');
      }
    },
  };
  const registry = new Registry();
  const consumer = createStorageConsumer({ bus, store: flaky, groupId: 'g-fail', batchMaxRows: 16, batchMaxMs: 20, registry, retryBaseMs: 5, retryMaxMs: 40 });
  consumer.start();
  try {
    await waitFor(() => lagZero('g-fail'), 30_000, 'the consumer to get through the outage');
  } finally {
    await consumer.stop();
  }
  assert.ok(failures >= 8, `expected the flaky store to fail at least 8 times, got ${failures}`);
  await assertExactlyOnce('t-fail', 80);
  const errors = [...(await registry.metrics()).matchAll(/ollystack_storage_insert_errors_total\{table="[^"]+"\} (\d+)/g)].reduce((n, m) => n + Number(m[1]), 0);
  assert.equal(errors, failures);
});

test('a batch left pending by a crash is replayed with its original range and token', async () => {
  await produceAll('t-replay', 30, 2);
  // First run: inserts land, then the "process dies" before the final commit.
  let inserted = 0;
  const dying: Store = {
    kind: store.kind,
    query: (sql, params) => store.query(sql, params),
    command: (sql, params) => store.command(sql, params),
    ping: () => store.ping(),
    close: async () => {},
    async insert(table, rows, options) {
      await store.insert(table, rows, options);
      inserted += rows.length;
      throw new Error('dies after the insert');
    },
  };
  const first = createStorageConsumer({ bus, store: dying, groupId: 'g-replay', batchMaxRows: 10_000, batchMaxMs: 50, retryBaseMs: 60_000 });
  first.start();
  await waitFor(async () => inserted > 0, 10_000, 'a first insert');
  await first.stop();
  // Something is pending: some partition's commit carries `pending:<end>`.
  const probe = bus.consumer({ groupId: 'g-replay', topics: TOPICS });
  const committed = [];
  for (const t of TOPICS) for (const p of [0, 1]) committed.push(await probe.committed({ topic: t, partition: p }));
  await probe.close();
  assert.ok(committed.some((c) => c?.metadata?.startsWith('pending:')), 'expected a pending commit');

  // Second run with a different batch size: the replayed batch must still match the first.
  const second = createStorageConsumer({ bus, store, groupId: 'g-replay', batchMaxRows: 3, batchMaxMs: 20 });
  second.start();
  try {
    await waitFor(() => lagZero('g-replay'), 20_000, 'the second run to drain');
  } finally {
    await second.stop();
  }
  await assertExactlyOnce('t-replay', 60);
});

test('a failing store is retried with the same Native blocks: nothing lost, nothing doubled', async () => {
  await produceAll('t-fail-raw', 40, 2);
  let calls = 0;
  let failures = 0;
  const formats = new Set<string>();
  const flaky: Store = {
    kind: store.kind,
    query: (sql, params) => store.query(sql, params),
    command: (sql, params) => store.command(sql, params),
    ping: () => store.ping(),
    close: async () => {},
    // Data goes through raw inserts; the ingest ledger's one row per batch through insert.
    insert: (table, rows, options) => (table === LEDGER_TABLE ? store.insert(table, rows, options) : Promise.reject(new Error('row inserts are not used for data when raw inserts exist'))),
    async insertRaw(table, format, body, options) {
      const n = ++calls;
      formats.add(format);
      // Fails some inserts before writing and some after (a lost acknowledgement).
      if (n <= 12 && n % 3 === 1) {
        failures++;
        throw new Error('simulated store outage');
      }
      await store.insertRaw!(table, format, body, options);
      if (n <= 12 && n % 3 === 2) {
        failures++;
        throw new Error('simulated lost acknowledgement');
      }
    },
  };
  const consumer = createStorageConsumer({ bus, store: flaky, groupId: 'g-fail-raw', batchMaxRows: 16, batchMaxMs: 20, retryBaseMs: 5, retryMaxMs: 40 });
  consumer.start();
  try {
    await waitFor(() => lagZero('g-fail-raw'), 30_000, 'the consumer to get through the outage');
  } finally {
    await consumer.stop();
  }
  assert.ok(failures >= 8, `expected the flaky store to fail at least 8 times, got ${failures}`);
  assert.deepEqual([...formats], ['Native']);
  await assertExactlyOnce('t-fail-raw', 80);
});

/**
 * What a kill between ClickHouse's two steps of a non-replicated insert leaves: the token in the
 * table's deduplication log, the rows (here: those matching `lost`) gone. A retry under the same
 * token is dropped, so only the check after it (checked-insert.ts) brings the rows back.
 */
async function insertThenLose(table: string, format: RawFormat, body: RawBody, options: InsertOptions | undefined, lost: string, tenant: string): Promise<void> {
  await store.insertRaw!(table, format, body, options);
  await store.command(`ALTER TABLE ${table} DELETE WHERE TenantId = {t:String} AND ${lost} SETTINGS mutations_sync = 2`, { t: tenant });
}

/**
 * A bus of the test's own, so its first batch holds its own tenant's rows; one partition a
 * topic, so no other batch of spans is inserted beside it (and loses rows with it).
 */
async function ownBus(name: string): Promise<Bus> {
  const own = await createEmbeddedBus({ dir: path.join(root, name) });
  await own.ensureTopics(TOPICS.map((topic) => ({ name: topic, partitions: 1, retentionMs: 86_400_000 })));
  return own;
}

test('a retried batch whose token outlived some of its rows is written again: nothing lost, nothing doubled', async (t) => {
  const own = await ownBus('bus-token-left');
  t.after(() => own.close());
  await produceAll('t-token-left', 40, 2, own);
  let traceInserts = 0;
  const losing: Store = {
    ...passThrough(),
    async insertRaw(table, format, body, options) {
      if (table !== TRACES_TABLE || ++traceInserts > 1) return store.insertRaw!(table, format, body, options);
      // The first batch of spans: half its rows vanish, its token stays, and the call fails.
      await insertThenLose(table, format, body, options, "toUInt32(SpanAttributes['seq']) % 2 = 0", 't-token-left');
      throw new Error('simulated crash of the server between the deduplication log and the part');
    },
  };
  const consumer = createStorageConsumer({ bus: own, store: losing, groupId: 'g-token-left', batchMaxRows: 16, batchMaxMs: 20, retryBaseMs: 5, retryMaxMs: 40 });
  consumer.start();
  try {
    await waitFor(() => lagZero('g-token-left', own), 30_000, 'the consumer to drain');
  } finally {
    await consumer.stop();
  }
  assert.ok(traceInserts > 1);
  await assertExactlyOnce('t-token-left', 80);
});

test('a batch re-formed after a crash whose token outlived all its rows is written again', async (t) => {
  const own = await ownBus('bus-token-dead');
  t.after(() => own.close());
  await produceAll('t-token-dead', 30, 2, own);
  // First run: the first span insert logs its token, loses its rows, and the process "dies".
  let dead = false;
  const dying: Store = {
    ...passThrough(),
    async insertRaw(table, format, body, options) {
      if (dead) throw new Error('the process is dead');
      if (table !== TRACES_TABLE) return store.insertRaw!(table, format, body, options);
      await insertThenLose(table, format, body, options, '1', 't-token-dead');
      dead = true;
      throw new Error('killed between the deduplication log and the part');
    },
  };
  const first = createStorageConsumer({ bus: own, store: dying, groupId: 'g-token-dead', batchMaxRows: 10_000, batchMaxMs: 50, retryBaseMs: 60_000 });
  first.start();
  await waitFor(async () => dead, 10_000, 'the first span insert');
  await first.stop();
  const [left] = await store.query<{ n: string }>(`SELECT count() AS n FROM ${TRACES_TABLE} WHERE TenantId = 't-token-dead'`);
  assert.equal(left.n, '0');

  const second = createStorageConsumer({ bus: own, store, groupId: 'g-token-dead', batchMaxRows: 3, batchMaxMs: 20 });
  second.start();
  try {
    await waitFor(() => lagZero('g-token-dead', own), 20_000, 'the second run to drain');
  } finally {
    await second.stop();
  }
  await assertExactlyOnce('t-token-dead', 60);
});

/** Runs a consumer of the group until it has committed everything. */
async function drain(groupId: string, registry?: Registry): Promise<void> {
  const consumer = createStorageConsumer({ bus, store, groupId, batchMaxRows: 7, batchMaxMs: 20, registry });
  consumer.start();
  try {
    await waitFor(() => lagZero(groupId), 20_000, `group ${groupId} to commit everything`);
  } finally {
    await consumer.stop();
  }
}

test('a group rewound over stored data stores nothing twice (ingest ledger); with data and ledger lost, it refills', async () => {
  await produceAll('t-ledger', 30, 2);
  await drain('g-ledger');
  await assertExactlyOnce('t-ledger', 60);
  // Rewind to the start, as a replay does: other batch boundaries than the first run's.
  const rewind = async () => {
    for (const topic of TOPICS) {
      const lag = await bus.lag('g-ledger', topic);
      await bus.setCommitted('g-ledger', lag.map((p) => ({ topic, partition: p.partition, offset: 0 })));
    }
  };
  await rewind();
  const registry = new Registry();
  const consumer = createStorageConsumer({ bus, store, groupId: 'g-ledger', batchMaxRows: 5, batchMaxMs: 20, registry });
  consumer.start();
  try {
    await waitFor(() => lagZero('g-ledger'), 20_000, 'the rewound group to catch up');
  } finally {
    await consumer.stop();
  }
  await assertExactlyOnce('t-ledger', 60);
  const skipped = (await registry.getSingleMetricAsString('ollystack_storage_records_already_stored_total')).match(/_total (\d+)/);
  assert.ok(skipped && Number(skipped[1]) >= 90, `every record was skipped as already stored: ${skipped?.[1]}`);

  // The store loses the rows and the ledger together (restored from an older backup): a rewind refills exactly.
  for (const table of [TRACES_TABLE, LOGS_TABLE, METRIC_TABLES.gauge, METRIC_TABLES.sum]) {
    await store.command(`ALTER TABLE ${table} DELETE WHERE TenantId = 't-ledger' SETTINGS mutations_sync = 1`);
  }
  await store.command(`ALTER TABLE ${LEDGER_TABLE} DELETE WHERE ConsumerGroup = 'g-ledger' SETTINGS mutations_sync = 1`);
  await rewind();
  await drain('g-ledger');
  await assertExactlyOnce('t-ledger', 60);
});

test('a bus started anew on the same store (offsets from 0 again): its records are stored, not skipped as written', async () => {
  // Two stacks one after the other: each its own bus data folder, one store. The second bus's
  // offsets are the first's again, in the same topics and partitions, under the same group.
  for (const [folder, tenant] of [['bus-first', 't-wiped-1'], ['bus-second', 't-wiped-2']]) {
    const fresh = await createEmbeddedBus({ dir: path.join(root, folder) });
    try {
      await fresh.ensureTopics(TOPICS.map((name) => ({ name, partitions: 2, retentionMs: 86_400_000 })));
      await produceAll(tenant, 30, 2, fresh);
      const registry = new Registry();
      const consumer = createStorageConsumer({ bus: fresh, store, groupId: 'g-wiped', batchMaxRows: 7, batchMaxMs: 20, registry });
      consumer.start();
      try {
        await waitFor(() => lagZero('g-wiped', fresh), 20_000, `the consumer on ${folder} to commit everything`);
        await consumer.flushed();
      } finally {
        await consumer.stop();
      }
      await assertExactlyOnce(tenant, 60);
      const skipped = (await registry.getSingleMetricAsString('ollystack_storage_records_already_stored_total')).match(/_total (\d+)/);
      assert.equal(Number(skipped?.[1] ?? 0), 0, `no record on ${folder} was taken for one already stored`);
    } finally {
      await fresh.close();
    }
  }
  const incarnations = await store.query<{ t: string }>(`SELECT DISTINCT Topic AS t FROM ${LEDGER_TABLE} WHERE ConsumerGroup = 'g-wiped' AND Topic LIKE 'traces@%'`);
  assert.equal(incarnations.length, 2, 'the ledger holds the traces ranges of each bus under its own topic id');
});

test('options are validated with the field named', () => {
  assert.throws(() => createStorageConsumer({ bus, store, batchMaxRows: 0 }), /batchMaxRows/);
  assert.throws(() => createStorageConsumer({ bus, store, topics: ['alerts' as 'traces'] }), /topics/);
  assert.throws(() => createStorageConsumer({ bus, store, insertFormat: 'CSV' as 'Native' }), /insertFormat must be one of JSONEachRow, Native/);
});
