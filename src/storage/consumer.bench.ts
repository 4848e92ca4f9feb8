/**
 * Storage throughput, traces: rows/s of
 *   1. decode + row mapping alone,
 *   2. decode + mapping + insert into chDB (what the consumer does per batch),
 *   3. chDB inserting the same rows from a pre-serialized JSONEachRow buffer (the engine's ceiling).
 *   4. the wire mapper (bytes -> JSONEachRow text, no protobufjs objects) alone and with insertRaw,
 * and prints a summary table of all figures.
 * Run: npx node src/storage/consumer.bench.ts [spansPerRequest=500] [requests=100]
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { opentelemetry } from '../otlp/index.ts';
import { createStore } from './clickhouse-store.ts';
import { migrate } from './migrate.ts';
import { RowSink } from './rows/sink.ts';
import { appendTraceRecord } from './rows/traces.ts';
import { TextRowSink, WIRE_MAPPERS } from './rows/wire/index.ts';
import { spanRequest } from '../../bench/payloads.ts';
import { TRACES_TABLE } from './schema.ts';

const Req = opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
const spansPerRequest = Number(process.argv[2] ?? 500);
const requests = Number(process.argv[3] ?? 100);
const summary: Array<[string, string]> = [];

function realisticRequest(seed: number): Uint8Array {
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
  return Req.encode(
    Req.fromObject({
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'checkout' } }, { key: 'host.name', value: { stringValue: 'node-7' } }, { key: 'k8s.pod.name', value: { stringValue: 'checkout-5d9f' } }] },
          scopeSpans: [{ scope: { name: '@opentelemetry/instrumentation-http', version: '0.50.0' }, spans }],
        },
      ],
    }),
  ).finish();
}

const payloads = Array.from({ length: requests }, (_, i) => realisticRequest(i));
const totalRows = spansPerRequest * requests;
const rate = (rows: number, ms: number) => Math.round((rows / ms) * 1000).toLocaleString('en-US');

function mapAll(): RowSink {
  const sink = new RowSink();
  for (const p of payloads) appendTraceRecord(p, 'bench', sink);
  return sink;
}

// 1. mapping alone (warm up first so the JIT has settled).
for (let i = 0; i < 3; i++) mapAll();
let t0 = performance.now();
const rounds = 5;
for (let i = 0; i < rounds; i++) mapAll();
const mapMs = (performance.now() - t0) / rounds;
console.log(`decode + map:              ${rate(totalRows, mapMs)} rows/s  (${totalRows} rows in ${mapMs.toFixed(1)} ms)`);
summary.push(['object mapper (decode + map)', rate(totalRows, mapMs)]);

// 4a. the wire mapper alone, on bench/payloads.ts requests (~10 attributes per span) and on this file's.
const sdkPayloads = Array.from({ length: requests }, (_, i) => Buffer.from(spanRequest(spansPerRequest, i + 1)));
for (const [name, list] of [['bench/payloads.ts', sdkPayloads], ['realisticRequest', payloads.map((p) => Buffer.from(p))]] as const) {
  const wireAll = () => {
    const sink = new TextRowSink();
    for (const p of list) WIRE_MAPPERS.traces(p, 'bench', sink);
    return sink;
  };
  for (let i = 0; i < 3; i++) wireAll().entries();
  let wireMs = 0;
  let joinMs = 0;
  for (let i = 0; i < rounds; i++) {
    const w0 = performance.now();
    const sink = wireAll();
    const w1 = performance.now();
    sink.entries();
    wireMs += w1 - w0;
    joinMs += performance.now() - w1;
  }
  const n = list.length * spansPerRequest * rounds;
  console.log(`wire map (${name}):  ${rate(n, wireMs)} rows/s, with the join of lines ${rate(n, wireMs + joinMs)} rows/s`);
  summary.push([`wire mapper alone (${name})`, rate(n, wireMs)]);
  summary.push([`wire mapper + join (${name})`, rate(n, wireMs + joinMs)]);
}

const rows = mapAll().rows(TRACES_TABLE);
t0 = performance.now();
let json = '';
for (const r of rows) json += JSON.stringify(r) + '\n';
const jsonMs = performance.now() - t0;
console.log(`JSON.stringify rows:       ${rate(totalRows, jsonMs)} rows/s  (${(json.length / 1e6).toFixed(1)} MB)`);

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ollystack-bench-'));
const store = await createStore({ url: `chdb://${dir}` });
try {
  await migrate(store, { traces: 7, logs: 7, metrics: 7 });
  // 2. mapping + insert, per batch size.
  for (const batch of [10_000, 50_000]) {
    const requestsPerBatch = Math.max(1, Math.round(batch / spansPerRequest));
    t0 = performance.now();
    let written = 0;
    for (let i = 0; i < payloads.length; i += requestsPerBatch) {
      const sink = new RowSink();
      for (const p of payloads.slice(i, i + requestsPerBatch)) appendTraceRecord(p, 'bench', sink);
      for (const [table, list] of sink.entries()) {
        await store.insert(table, list, { dedupToken: `bench:${batch}:${i}` });
        written += list.length;
      }
    }
    const ms = performance.now() - t0;
    console.log(`decode + map + insert:     ${rate(written, ms)} rows/s  (batch ${batch} rows)`);
    summary.push([`object mapper + insert (batch ${batch})`, rate(written, ms)]);
  }
  // 3. the engine's ceiling: the same rows, already serialized, through the same insert path
  // (in chDB, a file the engine parses in parallel, as clickhouse-local would).
  for (const batch of [10_000, 50_000]) {
    const chunks: Buffer[] = [];
    for (let i = 0; i < rows.length; i += batch) {
      let text = '';
      for (const r of rows.slice(i, i + batch)) text += JSON.stringify(r) + '\n';
      chunks.push(Buffer.from(text));
    }
    t0 = performance.now();
    for (let i = 0; i < chunks.length; i++) await store.insertRaw!(TRACES_TABLE, 'JSONEachRow', chunks[i], { dedupToken: `bench-ceiling:${batch}:${i}` });
    const ms = performance.now() - t0;
    console.log(`chDB pre-serialized insert: ${rate(rows.length, ms)} rows/s  (batch ${batch} rows)`);
    summary.push([`chDB ceiling, pre-serialized (batch ${batch})`, rate(rows.length, ms)]);
  }
  // 4b. wire mapper + insertRaw, per batch size (what the consumer now does per batch).
  for (const batch of [10_000, 50_000]) {
    const requestsPerBatch = Math.max(1, Math.round(batch / spansPerRequest));
    t0 = performance.now();
    let written = 0;
    for (let i = 0; i < payloads.length; i += requestsPerBatch) {
      const sink = new TextRowSink();
      for (const p of payloads.slice(i, i + requestsPerBatch)) WIRE_MAPPERS.traces(p, 'bench-wire', sink);
      for (const [table, body, count] of sink.entries()) {
        await store.insertRaw!(table, 'JSONEachRow', body, { dedupToken: `bench-wire:${batch}:${i}` });
        written += count;
      }
    }
    const ms = performance.now() - t0;
    console.log(`wire map + insertRaw:      ${rate(written, ms)} rows/s  (batch ${batch} rows)`);
    summary.push([`wire mapper + insertRaw (batch ${batch})`, rate(written, ms)]);
  }
} finally {
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });
}
console.log(`\ntraces, ${spansPerRequest} spans per request, ${requests} requests (rows/s, one core):`);
const width = Math.max(...summary.map(([name]) => name.length));
for (const [name, value] of summary) console.log(`  ${name.padEnd(width)}  ${value.padStart(10)}`);
