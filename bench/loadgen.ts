/**
 * Load generator, run as its own process so it does not share the server's event loop:
 * `node bench/loadgen.ts <url> <signal> <itemsPerRequest> <concurrency> <durationMs> [apiKey]`.
 * Sends the same pre-encoded OTLP protobuf body over keep-alive connections and prints one
 * JSON line of results.
 */
import { Agent, request } from 'node:http';
import type { Signal } from '../src/telemetry/signals.ts';
import { BENCH_SERVICES, payloadFor } from './payloads.ts';

const [url, signal, itemsArg, concArg, durArg, apiKey = ''] = process.argv.slice(2);
const items = Number(itemsArg);
const concurrency = Number(concArg);
const durationMs = Number(durArg);
// One body per service of a small fleet, sent in turn, as an SDK per service would.
const bodies = BENCH_SERVICES.map((service, i) => Buffer.from(payloadFor(signal as Signal, items, i + 1, service)));
const target = new URL(url);
const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
let sent = 0;

const latencies: number[] = [];
let ok = 0;
let failed = 0;
const statuses: Record<string, number> = {};

function once(): Promise<void> {
  return new Promise((resolve) => {
    const body = bodies[sent++ % bodies.length];
    const headers = { 'content-type': 'application/x-protobuf', 'content-length': String(body.length), authorization: `Bearer ${apiKey}` };
    const started = performance.now();
    const req = request({ host: target.hostname, port: target.port, path: target.pathname, method: 'POST', agent, headers }, (res) => {
      res.on('data', () => {});
      res.on('end', () => {
        latencies.push(performance.now() - started);
        statuses[res.statusCode!] = (statuses[res.statusCode!] ?? 0) + 1;
        if (res.statusCode === 200) ok++;
        else failed++;
        resolve();
      });
    });
    req.on('error', () => {
      failed++;
      resolve();
    });
    req.end(body);
  });
}

// A short warm-up so JIT and connection setup are not measured.
const warmEnd = performance.now() + Math.min(1000, durationMs / 5);
await Promise.all(Array.from({ length: concurrency }, async () => {
  while (performance.now() < warmEnd) await once();
}));
latencies.length = 0;
ok = 0;
failed = 0;
for (const k of Object.keys(statuses)) delete statuses[k];

const started = performance.now();
const end = started + durationMs;
await Promise.all(Array.from({ length: concurrency }, async () => {
  while (performance.now() < end) await once();
}));
const elapsed = (performance.now() - started) / 1000;
latencies.sort((a, b) => a - b);
const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? 0;
process.stdout.write(
  JSON.stringify({ requests: ok + failed, ok, failed, statuses, seconds: elapsed, itemsPerSec: (ok * items) / elapsed, reqPerSec: ok / elapsed, mbPerSec: (ok * bodies[0].length) / elapsed / 1e6, p50: pct(50), p99: pct(99), bodyBytes: bodies[0].length }) + '\n',
);
agent.destroy();
