/**
 * Load generator, run as its own process so it does not share the server's event loop:
 * `node bench/loadgen.ts <url> <signal> <itemsPerRequest> <concurrency> <durationMs> [apiKey] [itemsPerSec]`.
 * With itemsPerSec the requests are paced to that offered rate (a steady load, to see whether
 * the server keeps up with it); without, each connection sends back to back (the most it takes).
 *
 * It must cost the server's machine as little CPU as possible, or the ceiling it measures is
 * its own: each request (head and body) is encoded once, then written as is to keep-alive
 * TCP connections, and a response is read only as far as its status line and length.
 * Bodies rotate over a small fleet of services, as one SDK per service would send them.
 * Prints one JSON line of results.
 */
import { connect, type Socket } from 'node:net';
import type { Signal } from '../src/telemetry/signals.ts';
import { BENCH_SERVICES, payloadFor } from './payloads.ts';

const [url, signal, itemsArg, concArg, durArg, apiKey = '', rateArg = '0'] = process.argv.slice(2);
const items = Number(itemsArg);
const concurrency = Number(concArg);
const durationMs = Number(durArg);
const target = new URL(url);
/** Milliseconds between request starts across all connections at the offered rate; 0: unpaced. */
const intervalMs = Number(rateArg) > 0 ? (1000 * items) / Number(rateArg) : 0;
/** The next paced start time, shared by the connections. */
let nextSlot = 0;
/**
 * How far behind its schedule a paced load may fall before it drops start times: a client's
 * queue (the Collector's exporter queue, an SDK's batch queue) holds its requests through a slow
 * second and sends them once it can, so the load catches up within this window; past it, it
 * gives those requests up, and the accepted rate falls short of the offered one.
 */
const CATCH_UP_MS = 1000;

const requests = BENCH_SERVICES.map((service, i) => {
  const body = Buffer.from(payloadFor(signal as Signal | 'traces:lean', items, i + 1, service));
  const head =
    `POST ${target.pathname} HTTP/1.1\r\nHost: ${target.host}\r\nContent-Type: application/x-protobuf\r\n` +
    `Authorization: Bearer ${apiKey}\r\nContent-Length: ${body.length}\r\nConnection: keep-alive\r\n\r\n`;
  return { bytes: Buffer.concat([Buffer.from(head), body]), bodyBytes: body.length };
});

const latencies: number[] = [];
/** Paced: how late each request started against its scheduled time. */
const lateness: number[] = [];
let ok = 0;
/** Requests answered 200, the warm-up's too (what the server must have stored). */
let okTotal = 0;
let failed = 0;
let bodyBytesSent = 0;
let measuring = false;
const statuses: Record<string, number> = {};

/** One keep-alive connection sending requests back to back until `until` a start time. */
function connection(until: (start: number) => boolean, offset: number): Promise<void> {
  return new Promise((resolve) => {
    const socket: Socket = connect({ host: target.hostname, port: Number(target.port) });
    socket.setNoDelay(true);
    let pending: Buffer = Buffer.alloc(0);
    let sentAt = 0;
    let next = offset;
    let current = requests[0];
    const send = () => {
      const now = performance.now();
      // Paced, the load ends with the last start time in its window, sent however late.
      const slot = intervalMs > 0 ? Math.max(nextSlot + intervalMs, now - CATCH_UP_MS) : now;
      if (until(slot)) {
        socket.end();
        return;
      }
      if (intervalMs > 0) {
        nextSlot = slot;
        if (slot > now) {
          setTimeout(() => write(slot), slot - now);
          return;
        }
      }
      write(slot);
    };
    const write = (slot: number) => {
      current = requests[next++ % requests.length];
      sentAt = performance.now();
      if (measuring && intervalMs > 0) lateness.push(sentAt - slot);
      socket.write(current.bytes);
    };
    socket.on('connect', send);
    socket.on('data', (chunk: Buffer) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      for (;;) {
        const headEnd = pending.indexOf('\r\n\r\n');
        if (headEnd < 0) return;
        const head = pending.subarray(0, headEnd).toString('latin1');
        const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
        if (pending.length < headEnd + 4 + length) return;
        pending = pending.subarray(headEnd + 4 + length);
        const status = head.slice(9, 12);
        if (status === '200') okTotal++;
        if (measuring) {
          latencies.push(performance.now() - sentAt);
          statuses[status] = (statuses[status] ?? 0) + 1;
          if (status === '200') {
            ok++;
            bodyBytesSent += current.bodyBytes;
          } else failed++;
        }
        send();
      }
    });
    socket.on('error', () => {
      if (measuring) failed++;
      resolve();
    });
    socket.on('close', () => resolve());
  });
}

async function run(ms: number): Promise<number> {
  const started = performance.now();
  const end = started + ms;
  nextSlot = started - intervalMs;
  await Promise.all(Array.from({ length: concurrency }, (_, i) => connection((start) => start >= end, i)));
  return (performance.now() - started) / 1000;
}

// A short warm-up so JIT and connection setup are not measured.
const firstSend = performance.now();
await run(Math.min(1000, durationMs / 5));
measuring = true;
const elapsed = await run(durationMs);
latencies.sort((a, b) => a - b);
lateness.sort((a, b) => a - b);
const pctOf = (list: number[], p: number) => list[Math.min(list.length - 1, Math.floor((p / 100) * list.length))] ?? 0;
const pct = (p: number) => pctOf(latencies, p);
process.stdout.write(
  JSON.stringify({
    requests: ok + failed,
    ok,
    okTotal,
    failed,
    statuses,
    seconds: elapsed,
    /** From the warm-up's first request to the end: the span of time okTotal was sent in. */
    secondsTotal: (performance.now() - firstSend) / 1000,
    itemsPerSec: (ok * items) / elapsed,
    reqPerSec: ok / elapsed,
    mbPerSec: bodyBytesSent / elapsed / 1e6,
    p50: pct(50),
    p99: pct(99),
    /** Paced: how late requests started against their schedule (ms), p99 and the most. */
    lateP99: pctOf(lateness, 99),
    lateMax: lateness.length > 0 ? lateness[lateness.length - 1] : 0,
    bodyBytes: requests[0].bodyBytes,
  }) + '\n',
);
