/** The metering consumer end to end: embedded bus -> consumer -> chDB usage table -> reader. */
import { test, before, after, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Registry } from 'prom-client';
import { createEmbeddedBus, type Bus, type CommittedOffset, type ProduceRecord } from '../bus/index.ts';
import { createStore, IngestLedger, LEDGER_TABLE, migrate, type Store } from '../storage/index.ts';
import type { Signal } from '../telemetry/index.ts';
import { createMeteringConsumer } from './consumer.ts';
import { createUsageReader } from './reader.ts';
import { ensureUsageTable, USAGE_TABLE } from './schema.ts';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ollystack-metering-'));
const SIGNAL_TOPICS: Signal[] = ['traces', 'metrics', 'logs'];
const H10 = Date.UTC(2026, 10, 27, 10, 0, 0);
const H11 = H10 + 3_600_000;
let store: Store;
/** Each test has a bus of its own (consumer groups start at the log's beginning); the store is shared. */
let bus: Bus;

before(async () => {
  store = await createStore({ url: `chdb://${path.join(root, 'chdb')}` });
  // The ingest ledger's table comes with the storage migrations.
  await migrate(store, { traces: 7, logs: 7, metrics: 7 });
  await ensureUsageTable(store);
});
beforeEach(async () => {
  bus = await createEmbeddedBus({ dir: fs.mkdtempSync(path.join(root, 'bus-')) });
  await bus.ensureTopics(SIGNAL_TOPICS.map((name) => ({ name, partitions: 2, retentionMs: 365 * 86_400_000 })));
});
afterEach(async () => {
  await bus.close();
});
after(async () => {
  await store.close();
  fs.rmSync(root, { recursive: true, force: true });
});

type Expected = Map<string, { events: number; bytes: number }>;

/**
 * Produces `n` records per signal for `tenant`, half in the 10:00 hour and half in 11:00,
 * with varying item counts and sizes, over several keys (so both partitions); returns the
 * expected totals per `signal/hour`.
 */
async function produce(tenant: string, n: number, expected: Expected = new Map()): Promise<Expected> {
  for (const signal of SIGNAL_TOPICS) {
    const records: ProduceRecord[] = [];
    for (let i = 0; i < n; i++) {
      const hour = i % 2 === 0 ? H10 : H11;
      const items = 1 + ((i * 7) % 13);
      const bytes = 10 + ((i * 31) % 200);
      records.push({
        key: Buffer.from(`${tenant}/svc-${i % 5}`),
        value: Buffer.alloc(bytes, 7),
        timestamp: hour + i * 1000,
        headers: { tenant, signal, items: String(items) },
      });
      const k = `${signal}/${hour}`;
      const e = expected.get(k) ?? { events: 0, bytes: 0 };
      e.events += items;
      e.bytes += bytes;
      expected.set(k, e);
    }
    await bus.produce(signal, records);
  }
  return expected;
}

async function usageOf(tenant: string): Promise<Expected> {
  const rows = await createUsageReader(store).usage(tenant, H10, H11 + 3_600_000);
  return new Map(rows.map((r) => [`${r.signal}/${r.hour}`, { events: r.events, bytes: r.bytes }]));
}

async function lagZero(groupId: string): Promise<boolean> {
  for (const t of SIGNAL_TOPICS) for (const p of await bus.lag(groupId, t)) if (p.lag > 0) return false;
  return true;
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Runs a consumer of `groupId` until it committed everything. Tenants are unique per test (the store is shared). */
async function drain(groupId: string, registry?: Registry, batchMaxRecords = 7): Promise<void> {
  const consumer = createMeteringConsumer({ bus, store, groupId, batchMaxRecords, batchMaxMs: 20, registry });
  consumer.start();
  try {
    await waitFor(() => lagZero(groupId), 20_000, `group ${groupId} to commit everything`);
    await consumer.flushed();
  } finally {
    await consumer.stop();
  }
}

test('two tenants: each one counted exactly, per signal and hour, in many small batches', async () => {
  const a = await produce('m-a', 40);
  const b = await produce('m-b', 25);
  await bus.produce('traces', [{ key: null, value: Buffer.alloc(5), headers: { signal: 'traces', items: '3' } }]);
  const registry = new Registry();
  await drain('g-two', registry);
  assert.deepEqual(await usageOf('m-a'), a);
  assert.deepEqual(await usageOf('m-b'), b);
  // 40 records per signal in batches of at most 7: the table holds many batches.
  const [{ batches }] = await store.query<{ batches: string }>(
    `SELECT uniqExact(Topic, Partition, BatchStart) AS batches FROM ${USAGE_TABLE} WHERE TenantId = {t:String}`,
    { t: 'm-a' },
  );
  assert.ok(Number(batches) >= 18, `expected >= 18 batches, got ${batches}`);
  assert.match(await registry.metrics(), /ollystack_metering_records_incomplete_total\{reason="no-tenant"\} 1/);
});

test('insert done, commit not done, restart: the batch is re-formed and counted once', async () => {
  const expected = await produce('m-crash', 30);
  // A bus whose consumers make one commit per partition (the first batch's `pending:<end>`
  // pre-commit) and fail every later one: each partition's first batch is inserted, then the
  // process "dies" before its offsets move.
  let failedCommits = 0;
  const committedOnce = new Set<string>();
  const crashing: Bus = {
    ensureTopics: (s) => bus.ensureTopics(s),
    produce: (t, r) => bus.produce(t, r),
    offsetsForTime: (t, ts) => bus.offsetsForTime(t, ts),
    topicId: (t) => bus.topicId(t),
    setCommitted: (g, o) => bus.setCommitted(g, o),
    lag: (g, t) => bus.lag(g, t),
    close: () => bus.close(),
    consumer(options) {
      const inner = bus.consumer(options);
      return {
        assignment: () => inner.assignment(),
        poll: (o) => inner.poll(o),
        committed: (tp) => inner.committed(tp),
        seek: (tp, offset) => inner.seek(tp, offset),
        onRebalance: (l) => inner.onRebalance(l),
        close: () => inner.close(),
        async commit(offsets: CommittedOffset[]) {
          const keys = offsets.map((o) => `${o.topic}/${o.partition}`);
          if (keys.some((k) => committedOnce.has(k))) {
            failedCommits++;
            throw new Error('simulated crash between insert and commit');
          }
          await inner.commit(offsets);
          for (const k of keys) committedOnce.add(k);
        },
      };
    },
  };
  // Batches of 11 here and of 7 after the restart: only the pending protocol makes the
  // restarted consumer re-form the same bounds (and so the same token and row keys).
  const first = createMeteringConsumer({ bus: crashing, store, groupId: 'g-crash', batchMaxRecords: 11, batchMaxMs: 20, retryBaseMs: 5, retryMaxMs: 20 });
  first.start();
  await waitFor(async () => failedCommits >= 6, 20_000, 'every partition to reach its first failing commit');
  await first.stop();

  // The state a crash leaves: rows inserted, offsets at the batch starts with `pending:<end>`.
  let pending = 0;
  const probe = bus.consumer({ groupId: 'g-crash', topics: SIGNAL_TOPICS });
  for (const topic of SIGNAL_TOPICS) {
    for (const partition of [0, 1]) {
      const c = await probe.committed({ topic, partition });
      if (c?.metadata?.startsWith('pending:')) pending++;
    }
  }
  await probe.close();
  assert.equal(pending, 6, 'every partition has a batch pending');
  const beforeRestart = await usageOf('m-crash');
  assert.ok(beforeRestart.size > 0, 'the first batches were inserted before the crash');

  await drain('g-crash');
  assert.deepEqual(await usageOf('m-crash'), expected);
});

/**
 * Runs a consumer of `groupId` on a store whose first insert into `table` lands, then loses
 * the rows matching `lose` (a kill between ClickHouse's deduplication log and the part: the
 * token stays, the rows go), then "dies": every later call fails. Returns once it died.
 */
async function runUntilLost(groupId: string, table: string, lose: string): Promise<void> {
  const losing = losingStore(table, lose);
  const first = createMeteringConsumer({ bus, store: losing.store, groupId, batchMaxRecords: 11, batchMaxMs: 20, retryBaseMs: 60_000 });
  first.start();
  await waitFor(async () => losing.died(), 20_000, `the first insert into ${table}`);
  await first.stop();
}

function losingStore(table: string, lose: string): { store: Store; died: () => boolean } {
  let dead = false;
  const fail = () => Promise.reject(new Error('the process is dead'));
  return {
    died: () => dead,
    store: {
      kind: store.kind,
      query: (sql, params) => (dead ? fail() : store.query(sql, params)),
      command: (sql, params) => (dead ? fail() : store.command(sql, params)),
      ping: () => store.ping(),
      close: async () => {},
      async insert(t, rows, options) {
        if (dead) return fail();
        await store.insert(t, rows, options);
        if (t !== table) return;
        await store.command(`ALTER TABLE ${table} DELETE WHERE ${lose} SETTINGS mutations_sync = 2`);
        dead = true;
        throw new Error('killed between the deduplication log and the part');
      },
    },
  };
}

test('usage rows whose token outlived them in a crash are counted again when the batch is re-formed', async () => {
  const expected = await produce('m-token-left', 20);
  await runUntilLost('g-token-left', USAGE_TABLE, "TenantId = 'm-token-left'");
  assert.equal((await usageOf('m-token-left')).size, 0, 'the crash left no usage rows');
  await drain('g-token-left');
  assert.deepEqual(await usageOf('m-token-left'), expected);
});

test('an ingest ledger row whose token outlived it in a crash is written again when the batch is re-formed', async () => {
  const expected = await produce('m-ledger-left', 20);
  await runUntilLost('g-ledger-left', LEDGER_TABLE, "ConsumerGroup = 'g-ledger-left'");
  await drain('g-ledger-left');
  assert.deepEqual(await usageOf('m-ledger-left'), expected);
  // The ledger covers every partition from offset 0 to its end: none of its ranges is missing.
  const ledger = new IngestLedger(store, 'g-ledger-left');
  for (const topic of SIGNAL_TOPICS) {
    for (const p of await bus.lag('g-ledger-left', topic)) {
      if (p.committed === 0) continue;
      const covered = await ledger.load(topic, await bus.topicId(topic), p.partition, 0);
      assert.equal(covered.coveredUntil(0), p.committed, `${topic}/${p.partition}`);
    }
  }
});

/** Moves every partition of the group back to offset 0, as a replay does (the group is stopped). */
async function rewindToStart(groupId: string): Promise<void> {
  for (const topic of SIGNAL_TOPICS) {
    const lag = await bus.lag(groupId, topic);
    await bus.setCommitted(groupId, lag.map((p) => ({ topic, partition: p.partition, offset: 0 })));
  }
}

test('a group rewound over counted offsets counts nothing twice (ingest ledger), and counts what is new once', async () => {
  const expected = await produce('m-rewind', 30);
  await drain('g-rewind');
  assert.deepEqual(await usageOf('m-rewind'), expected);

  // Rewound to the start and consumed again in other batch bounds: every record is skipped.
  await rewindToStart('g-rewind');
  const registry = new Registry();
  await drain('g-rewind', registry, 5);
  assert.deepEqual(await usageOf('m-rewind'), expected, 'counts unchanged after the rewind');
  assert.match(await registry.metrics(), /ollystack_metering_records_already_counted_total 90\b/);

  // New records behind counted ones, rewound again: a batch of new records must not take the
  // start (so the row keys) of a counted batch, which would replace its counts instead of adding.
  await produce('m-rewind', 12, expected);
  await rewindToStart('g-rewind');
  await drain('g-rewind', undefined, 4);
  assert.deepEqual(await usageOf('m-rewind'), expected, 'the counted records once, the new ones once');
});

test('a bus started anew on the same store (offsets from 0 again) is counted too, not skipped nor replacing the old counts', async () => {
  const expected = await produce('m-wiped', 20);
  await drain('g-wiped');
  assert.deepEqual(await usageOf('m-wiped'), expected);
  // A new data folder: the same topics, partitions and offsets, the same records, the same batch bounds.
  await bus.close();
  bus = await createEmbeddedBus({ dir: fs.mkdtempSync(path.join(root, 'bus-')) });
  await bus.ensureTopics(SIGNAL_TOPICS.map((name) => ({ name, partitions: 2, retentionMs: 365 * 86_400_000 })));
  await produce('m-wiped', 20, expected);
  const registry = new Registry();
  await drain('g-wiped', registry);
  assert.deepEqual(await usageOf('m-wiped'), expected, 'both buses counted, each once');
  assert.match(await registry.metrics(), /ollystack_metering_records_already_counted_total 0\b/);
});

test('options are validated with the field named', () => {
  assert.throws(() => createMeteringConsumer({ bus, store, batchMaxRecords: 0 }), /metering consumer: batchMaxRecords must be a positive number/);
  assert.throws(() => createMeteringConsumer({ bus, store, topics: ['alerts' as 'traces'] }), /metering consumer: topics: unknown signal topic 'alerts'/);
});
