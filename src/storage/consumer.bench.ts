/**
 * Storage throughput, traces: rows/s of the Native path beside the JSONEachRow path, in the
 * same run, each figure the median of RUNS runs:
 *   1. mapping alone: OTLP bytes -> Native blocks / JSONEachRow text (and the object mapper);
 *   2. chDB inserting bodies encoded beforehand (the engine's share alone);
 *   3. mapping + insert, one batch after the other;
 *   4. the whole storage consumer: embedded bus -> consumer -> chDB, start to all committed
 *      (mapping the next batch overlaps inserting this one).
 * Run: npx node src/storage/consumer.bench.ts [spansPerRequest=500] [requests=100] [runs=3]
 * (BENCH_RUNS sets the runs too). The machine may be shared: compare the two paths' ratios.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createEmbeddedBus, HEADER_TENANT } from '../bus/index.ts';
import { opentelemetry } from '../otlp/index.ts';
import { spanRequest } from '../../bench/payloads.ts';
import { createStore } from './clickhouse-store.ts';
import { createStorageConsumer } from './consumer.ts';
import { LEDGER_TABLE } from './ledger.ts';
import { migrate } from './migrate.ts';
import { NATIVE_MAPPERS, NativeRowSink } from './rows/native/index.ts';
import { RowSink } from './rows/sink.ts';
import { appendTraceRecord } from './rows/traces.ts';
import { TextRowSink, WIRE_MAPPERS } from './rows/wire/index.ts';
import { LOGS_TABLE, METRIC_TABLES, MIGRATIONS_TABLE, TRACES_TABLE } from './schema.ts';
import type { RawBody, RawFormat, Store } from './store.ts';

const Req = opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
const spansPerRequest = Number(process.argv[2] ?? 500);
const requests = Number(process.argv[3] ?? 100);
const RUNS = Number(process.argv[4] ?? process.env.BENCH_RUNS ?? 3);
const BATCHES = [10_000, 50_000];
/** The whole-consumer runs read this many times the requests, so several batches flow through. */
const CONSUMER_ROUNDS = 4;

function realisticRequest(seed: number): Buffer {
  const nowMs = Date.now();
  const spans = [];
  for (let i = 0; i < spansPerRequest; i++) {
    const traceId = Buffer.alloc(16);
    traceId.writeUInt32BE(seed, 0);
    traceId.writeUInt32BE(i >> 3, 12);
    const spanId = Buffer.alloc(8);
    spanId.writeUInt32BE(seed, 0);
    spanId.writeUInt32BE(i, 4);
    const startNs = `${nowMs - i}${String(i * 7919).padStart(6, '0').slice(-6)}`;
    spans.push({
      traceId,
      spanId,
      parentSpanId: i % 8 === 0 ? undefined : spanId,
      name: ['GET /api/cart', 'SELECT orders', 'redis GET', 'POST /checkout'][i % 4],
      kind: (i % 3) + 1,
      startTimeUnixNano: startNs,
      endTimeUnixNano: (BigInt(startNs) + BigInt(1000 + i * 137)).toString(),
      attributes: [
        { key: 'http.request.method', value: { stringValue: 'GET' } },
        { key: 'http.route', value: { stringValue: '/api/cart/:id' } },
        { key: 'http.response.status_code', value: { intValue: 200 } },
        { key: 'url.full', value: { stringValue: `https://shop.example.com/api/cart/${i}` } },
        { key: 'server.address', value: { stringValue: 'shop.example.com' } },
        { key: 'server.port', value: { intValue: 443 } },
        { key: 'user_agent.original', value: { stringValue: 'Mozilla/5.0 (X11; Linux x86_64)' } },
        { key: 'db.system', value: { stringValue: 'postgresql' } },
        { key: 'net.peer.ip', value: { stringValue: '10.0.3.17' } },
        { key: 'sampled', value: { boolValue: true } },
      ],
      status: { code: i % 50 === 0 ? 2 : 0 },
      events: i % 10 === 0 ? [{ timeUnixNano: startNs, name: 'exception', attributes: [{ key: 'exception.type', value: { stringValue: 'TimeoutError' } }] }] : [],
    });
  }
  return Buffer.from(
    Req.encode(
      Req.fromObject({
        resourceSpans: [
          {
            resource: { attributes: [{ key: 'service.name', value: { stringValue: 'checkout' } }, { key: 'host.name', value: { stringValue: 'node-7' } }, { key: 'k8s.pod.name', value: { stringValue: 'checkout-5d9f' } }] },
            scopeSpans: [{ scope: { name: '@opentelemetry/instrumentation-http', version: '0.50.0' }, spans }],
          },
        ],
      }),
    ).finish(),
  );
}

const realistic = Array.from({ length: requests }, (_, i) => realisticRequest(i));
const sdk = Array.from({ length: requests }, (_, i) => Buffer.from(spanRequest(spansPerRequest, i + 1)));
const totalRows = spansPerRequest * requests;

/** name -> rows/s of each run. */
const results = new Map<string, number[]>();
/** The current run; run -1 warms up (the JIT, the engine's caches) and is not recorded. */
let run = -1;

function record(name: string, rows: number, ms: number): void {
  if (run < 0) return;
  const list = results.get(name) ?? [];
  list.push((rows / ms) * 1000);
  results.set(name, list);
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

type Format = RawFormat;
const FORMATS: Format[] = ['JSONEachRow', 'Native'];

/** Maps the payloads into one sink of the format (what one batch holds); returns its [table, body, rows] entries. */
function mapAll(format: Format, list: Buffer[], tenant = 'bench'): Array<[string, RawBody, number]> {
  const sink = format === 'Native' ? new NativeRowSink() : new TextRowSink();
  // Rows carry their batch's id, as the consumer writes them.
  sink.ingestBatch = BigInt(Date.now()) << 20n;
  const mapper = format === 'Native' ? NATIVE_MAPPERS.traces : WIRE_MAPPERS.traces;
  for (const p of list) mapper(p, tenant, sink as never);
  return sink.entries();
}

function benchMapping(): void {
  const objectAll = () => {
    const sink = new RowSink();
    for (const p of realistic) appendTraceRecord(p, 'bench', sink);
  };
  objectAll();
  let t0 = performance.now();
  for (let i = 0; i < 3; i++) objectAll();
  record('map: object mapper (realisticRequest)', 3 * totalRows, performance.now() - t0);
  for (const [name, list] of [
    ['bench/payloads.ts', sdk],
    ['realisticRequest', realistic],
  ] as const) {
    for (const format of FORMATS) {
      for (let i = 0; i < 3; i++) mapAll(format, list);
      t0 = performance.now();
      for (let i = 0; i < 5; i++) mapAll(format, list);
      record(`map: ${format} (${name})`, 5 * totalRows, performance.now() - t0);
    }
  }
}

/** Drops and re-creates the tables: each measured insert starts on empty tables with no deduplication history. */
async function resetTables(store: Store): Promise<void> {
  for (const table of [TRACES_TABLE, LOGS_TABLE, ...Object.values(METRIC_TABLES), LEDGER_TABLE, MIGRATIONS_TABLE]) await store.command(`DROP TABLE IF EXISTS ${table}`);
  await migrate(store, { traces: 7, logs: 7, metrics: 7 });
}

async function benchInserts(store: Store): Promise<void> {
  for (const batch of BATCHES) {
    const perBatch = Math.max(1, Math.round(batch / spansPerRequest));
    for (const format of FORMATS) {
      // 2. inserts alone, of bodies encoded beforehand.
      const bodies: Array<Array<[string, RawBody, number]>> = [];
      for (let i = 0; i < realistic.length; i += perBatch) bodies.push(mapAll(format, realistic.slice(i, i + perBatch)));
      await resetTables(store);
      let t0 = performance.now();
      let written = 0;
      for (let b = 0; b < bodies.length; b++) {
        for (const [table, body, rows] of bodies[b]) {
          await store.insertRaw!(table, format, body, { dedupToken: `insert:${run}:${b}` });
          written += rows;
        }
      }
      record(`insert alone: ${format} (batch ${batch})`, written, performance.now() - t0);
      // 3. mapping + insert, one batch after the other.
      await resetTables(store);
      t0 = performance.now();
      written = 0;
      for (let i = 0; i < realistic.length; i += perBatch) {
        for (const [table, body, rows] of mapAll(format, realistic.slice(i, i + perBatch))) {
          await store.insertRaw!(table, format, body, { dedupToken: `map-insert:${run}:${i}` });
          written += rows;
        }
      }
      record(`map + insert: ${format} (batch ${batch})`, written, performance.now() - t0);
    }
  }
}

/** 4. The whole consumer over an embedded bus holding CONSUMER_ROUNDS x the requests. */
async function benchConsumer(store: Store, dir: string, format: Format): Promise<void> {
  await resetTables(store);
  const bus = await createEmbeddedBus({ dir: path.join(dir, `bus-${run}-${format}`) });
  try {
    await bus.ensureTopics([{ name: 'traces', partitions: 1, retentionMs: 86_400_000 }]);
    for (let r = 0; r < CONSUMER_ROUNDS; r++) {
      await bus.produce('traces', realistic.map((value, i) => ({ key: Buffer.from(`k${i}`), value, headers: { [HEADER_TENANT]: 'bench' } })));
    }
    const consumer = createStorageConsumer({ bus, store, groupId: 'bench', topics: ['traces'], insertFormat: format });
    const t0 = performance.now();
    consumer.start();
    try {
      for (;;) {
        const [lag] = await bus.lag('bench', 'traces');
        if (lag && lag.lag === 0) break;
        await new Promise((r) => setTimeout(r, 5));
      }
      record(`whole consumer: ${format} (batch 50000)`, CONSUMER_ROUNDS * totalRows, performance.now() - t0);
    } finally {
      await consumer.stop();
    }
  } finally {
    await bus.close();
  }
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ollystack-bench-'));
const store = await createStore({ url: `chdb://${path.join(dir, 'chdb')}` });
try {
  for (run = -1; run < RUNS; run++) {
    benchMapping();
    await benchInserts(store);
    // Alternate which format goes first, so neither always meets the other's background merges.
    for (const format of run % 2 === 0 ? FORMATS : [...FORMATS].reverse()) await benchConsumer(store, dir, format);
    process.stderr.write(run < 0 ? 'warm-up done\n' : `run ${run + 1}/${RUNS} done\n`);
  }
} finally {
  await store.close();
  // The engine's folder and its insert-files folder beside it are both inside dir.
  fs.rmSync(dir, { recursive: true, force: true });
}

console.log(`\ntraces, ${spansPerRequest} spans per request, ${requests} requests (${totalRows} rows; the whole consumer ${CONSUMER_ROUNDS * totalRows}), rows/s, median of ${RUNS} run(s):`);
const names = [...results.keys()];
const width = Math.max(...names.map((n) => n.length));
for (const name of names) {
  const m = median(results.get(name)!);
  let ratio = '';
  if (name.includes('Native')) {
    const json = results.get(name.replace('Native', 'JSONEachRow'));
    if (json) ratio = `  ${(m / median(json)).toFixed(2)}x JSONEachRow`;
  }
  console.log(`  ${name.padEnd(width)}  ${fmt(m).padStart(10)}${ratio}`);
}
