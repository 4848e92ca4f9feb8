/**
 * Distributed mode end to end, on the real engines: each component its own `ollystack`
 * process, on a private Kafka broker and a ClickHouse HTTP endpoint (chDB in its own
 * process). The architecture's degradation promises, each shown here:
 * - the store unreachable for a while: the gateway keeps accepting into Kafka, the storage
 *   consumers retry, and once the store is back everything arrives exactly once;
 * - a storage consumer killed with kill -9 while another runs: its partitions move over,
 *   nothing lost, nothing doubled;
 * - Kafka stopped: the gateway answers 503 with Retry-After, never 200, and recovers by itself;
 * - replay: a group rewound to a time consumes again with progress, and the store shows no
 *   row twice; after the store lost the data (restored from an empty backup), replay refills it.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createStore, type Store } from '../src/storage/index.ts';
import { post, traceRequest } from './fixtures.ts';
import { apiGet, randomHex, waitFor } from './helpers.ts';
import { startClickHouseEndpoint, startComponent, startPrivateKafka, type ClickHouseEndpoint, type ComponentProcess, type PrivateKafka } from './support/distributed.ts';

const BIN = fileURLToPath(new URL('../bin/ollystack.js', import.meta.url));
const KEY = 'distributed-test-key-000000';
const SPANS = 10;

let kafka: PrivateKafka;
let clickhouse: ClickHouseEndpoint;
let store: Store;
let dataDir: string;
let env: Record<string, string>;
let gateway: ComponentProcess;
const storage: ComponentProcess[] = [];
let sent = 0;
const startedAt = new Date(Date.now() - 1000);

before(async () => {
  kafka = await startPrivateKafka();
  clickhouse = await startClickHouseEndpoint();
  dataDir = mkdtempSync(join(tmpdir(), 'olly-dist-'));
  env = {
    OLLYSTACK_DATA_DIR: dataDir,
    OLLYSTACK_API_KEY: KEY,
    OLLYSTACK_BUS__URL: kafka.url,
    OLLYSTACK_BUS__PARTITIONS: '6',
    OLLYSTACK_BUS__REPLICATION_FACTOR: '1',
    OLLYSTACK_STORE__URL: clickhouse.url,
    OLLYSTACK_STORAGE__BATCH_MAX_MS: '200',
    OLLYSTACK_GATEWAY__HOST: '127.0.0.1',
    OLLYSTACK_GATEWAY__HTTP_PORT: '0',
    OLLYSTACK_GATEWAY__GRPC_PORT: '0',
    OLLYSTACK_API__HOST: '127.0.0.1',
    OLLYSTACK_API__PORT: '0',
    OLLYSTACK_OPS__HOST: '127.0.0.1',
    OLLYSTACK_OPS__PORT: '0',
  };
  store = await createStore({ url: clickhouse.url });
});

after(async () => {
  for (const p of [gateway, ...storage]) await p?.kill('SIGKILL');
  await store?.close().catch(() => undefined);
  await clickhouse?.remove();
  kafka?.remove();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** Sends `n` traces of SPANS spans through the gateway; every one must be accepted. */
async function send(n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const res = await post(gateway.endpoints['otlp-http'], '/v1/traces', KEY, traceRequest(`svc-${i % 5}`, randomHex(16), SPANS));
    assert.equal(res.status, 200, `request ${i}: ${res.status} ${await res.text()}`);
    sent += SPANS;
  }
}

async function counts(): Promise<{ rows: number; distinct: number }> {
  const [r] = await store.query<{ rows: string; distinct: string }>('SELECT count() AS rows, uniqExact(TraceId, SpanId) AS distinct FROM otel_traces');
  return { rows: Number(r.rows), distinct: Number(r.distinct) };
}

/** Waits until the store holds every span sent, then checks none is there twice. */
async function expectExactlyOnce(timeoutMs = 90_000): Promise<void> {
  const c = await waitFor(`${sent} spans in the store`, async () => {
    const c = await counts();
    return c.rows >= sent ? c : false;
  }, timeoutMs);
  assert.deepEqual(c, { rows: sent, distinct: sent }, 'every span exactly once');
}

test('each component in its own process: gateway to Kafka to two storage consumers to ClickHouse to the API', { timeout: 180_000 }, async () => {
  gateway = await startComponent(['gateway'], env);
  storage.push(await startComponent(['storage'], env), await startComponent(['storage'], env));
  const metering = await startComponent(['metering'], env);
  const api = await startComponent(['api'], env);
  try {
    await send(20);
    await expectExactlyOnce();
    const [{ TraceId }] = await store.query<{ TraceId: string }>('SELECT TraceId FROM otel_traces LIMIT 1');
    const trace = await apiGet(api.endpoints.api, `/api/v1/traces/${TraceId}`, KEY);
    assert.equal(trace.status, 200);
    assert.equal(trace.body.spans.length, SPANS);
    const usage = await waitFor('usage metered', async () => {
      const r = await apiGet(api.endpoints.api, `/api/v1/usage?from=${encodeURIComponent(startedAt.toISOString())}`, KEY);
      return r.body?.totals?.traces?.events >= sent ? r.body : false;
    });
    assert.equal(usage.totals.traces.events, sent);
    // Both consumers got partitions: the group shares the topic.
    const metrics = await Promise.all(storage.map(async (p) => (await fetch(`${p.endpoints.ops}/metrics`)).text()));
    assert.ok(metrics.every((m) => /ollystack_bus_consumer_lag\{[^}]*group="storage"/.test(m)), 'each storage process serves its lag');
  } finally {
    await metering.kill('SIGTERM');
    await api.kill('SIGTERM');
  }
});

test('the store unreachable for a while: the gateway keeps accepting, and afterwards every span is stored exactly once', { timeout: 180_000 }, async () => {
  await clickhouse.kill();
  await send(20);
  // The consumers keep retrying with backoff meanwhile; they must not exit.
  await new Promise((r) => setTimeout(r, 3000));
  for (const p of storage) assert.equal(p.child.exitCode, null, `a storage consumer exited while the store was down:\n${p.output().slice(-2000)}`);
  await clickhouse.restart();
  await expectExactlyOnce();
});

test('a storage consumer killed with kill -9 under load: the other takes its partitions, nothing lost or doubled', { timeout: 180_000 }, async () => {
  const sending = send(60);
  await new Promise((r) => setTimeout(r, 500));
  await storage[0].kill('SIGKILL');
  await sending;
  await expectExactlyOnce();
  storage.shift();
});

test('Kafka stopped: the gateway answers 503 with Retry-After, never 200, and recovers by itself', { timeout: 180_000 }, async () => {
  kafka.stop();
  const refused = await post(gateway.endpoints['otlp-http'], '/v1/traces', KEY, traceRequest('svc-down', randomHex(16), SPANS));
  assert.equal(refused.status, 503);
  assert.ok(Number(refused.headers.get('retry-after')) > 0, 'Retry-After tells the client when to come back');
  kafka.start();
  await waitFor('the gateway accepting again', async () => {
    const res = await post(gateway.endpoints['otlp-http'], '/v1/traces', KEY, traceRequest('svc-back', randomHex(16), SPANS));
    if (res.status === 200) sent += SPANS;
    return res.status === 200;
  }, 90_000);
  await expectExactlyOnce();
});

function replay(from: Date, ...extra: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, 'replay', '--topic', 'traces', '--group', 'storage', '--from', from.toISOString(), ...extra], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('exit', (code) => resolve({ code, out }));
  });
}

test('replay: a rewound group consumes again with progress and no row shows twice; after data loss it refills the store', { timeout: 240_000 }, async () => {
  for (const p of storage.splice(0)) assert.equal(await p.kill('SIGTERM'), 0, 'storage consumers stop cleanly');
  const first = await replay(startedAt);
  assert.equal(first.code, 0, first.out);
  assert.match(first.out, /records to consume again/);
  assert.match(first.out, /100\.0%/);
  assert.match(first.out, /replay: done/);
  assert.deepEqual(await counts(), { rows: sent, distinct: sent }, 'replaying data still in the store duplicates nothing');

  // The store restored from an empty backup: data and ledger gone together.
  await store.command('TRUNCATE TABLE otel_traces');
  await store.command('TRUNCATE TABLE ingest_ledger');
  const second = await replay(startedAt);
  assert.equal(second.code, 0, second.out);
  assert.deepEqual(await counts(), { rows: sent, distinct: sent }, 'replay refilled every span exactly once');

  // A replay against a group with a live member is refused with a clear message.
  const live = await startComponent(['storage'], env);
  try {
    const refused = await replay(startedAt, '--wait', '2');
    assert.equal(refused.code, 2, refused.out);
    assert.match(refused.out, /waiting up to 2 s for them to leave/);
    assert.match(refused.out, /--group: cannot rewind 'storage'.*Stop the group's processes first/);
  } finally {
    await live.kill('SIGTERM');
  }
});
