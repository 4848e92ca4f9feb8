/**
 * OTLP/gRPC load generator, run as its own process:
 * `node bench/grpc-loadgen.ts <host:port> <signal> <itemsPerRequest> <concurrency> <durationMs> [apiKey] [connections]`.
 *
 * Like loadgen.ts it must cost as little CPU as possible: raw HTTP/2 (node:http2) rather than a
 * grpc-js client, each gRPC message framed once (flag + length + body) and written as is, the
 * response read only as far as its grpc-status. `concurrency` calls are kept in flight,
 * spread over `connections` HTTP/2 connections (default 4), as several exporters would.
 * Prints one JSON line of results, in loadgen.ts' shape.
 */
import { connect, constants, type ClientHttp2Session, type IncomingHttpHeaders } from 'node:http2';
import { OTLP_GRPC_PATHS } from '../src/gateway/index.ts';
import type { Signal } from '../src/telemetry/signals.ts';
import { BENCH_SERVICES, payloadFor } from './payloads.ts';

const [target, signalArg, itemsArg, concArg, durArg, apiKey = '', connArg = '4'] = process.argv.slice(2);
// `traces:lean` sends leanSpanRequest bodies to the traces service.
const signal = signalArg.split(':')[0] as Signal;
const items = Number(itemsArg);
const concurrency = Number(concArg);
const durationMs = Number(durArg);
const connections = Number(connArg);

const messages = BENCH_SERVICES.map((service, i) => {
  const body = Buffer.from(payloadFor(signalArg as Signal | 'traces:lean', items, i + 1, service));
  const framed = Buffer.alloc(5 + body.length);
  framed.writeUInt32BE(body.length, 1); // byte 0 = 0: not compressed
  body.copy(framed, 5);
  return { framed, bodyBytes: body.length };
});

const headers = {
  [constants.HTTP2_HEADER_METHOD]: 'POST',
  [constants.HTTP2_HEADER_PATH]: OTLP_GRPC_PATHS[signal],
  [constants.HTTP2_HEADER_CONTENT_TYPE]: 'application/grpc',
  te: 'trailers',
  authorization: `Bearer ${apiKey}`,
};

const latencies: number[] = [];
let ok = 0;
let failed = 0;
let bodyBytesSent = 0;
let measuring = false;
const statuses: Record<string, number> = {};

const sessions: ClientHttp2Session[] = Array.from({ length: connections }, () => connect(`http://${target}`));

/** One call: resolves with its grpc-status (from the trailers, or the headers of a trailers-only answer). */
function call(session: ClientHttp2Session, framed: Buffer): Promise<string> {
  return new Promise((resolve) => {
    let code = 'no-status';
    const stream = session.request(headers);
    const take = (h: IncomingHttpHeaders) => {
      const s = h['grpc-status'];
      if (s !== undefined) code = String(s);
    };
    stream.on('response', take);
    stream.on('trailers', take);
    stream.on('data', () => {});
    stream.on('error', () => (code = 'stream-error'));
    stream.on('close', () => resolve(code));
    stream.end(framed);
  });
}

/** One in-flight slot, sending calls back to back until `until`. */
async function slot(until: () => boolean, offset: number): Promise<void> {
  const session = sessions[offset % sessions.length];
  for (let next = offset; !until(); next++) {
    const m = messages[next % messages.length];
    const sentAt = performance.now();
    const code = await call(session, m.framed);
    if (!measuring) continue;
    latencies.push(performance.now() - sentAt);
    statuses[code] = (statuses[code] ?? 0) + 1;
    if (code === '0') {
      ok++;
      bodyBytesSent += m.bodyBytes;
    } else failed++;
  }
}

async function run(ms: number): Promise<number> {
  const started = performance.now();
  const end = started + ms;
  await Promise.all(Array.from({ length: concurrency }, (_, i) => slot(() => performance.now() >= end, i)));
  return (performance.now() - started) / 1000;
}

// A short warm-up so JIT and connection setup are not measured.
await run(Math.min(1000, durationMs / 5));
measuring = true;
const elapsed = await run(durationMs);
for (const s of sessions) s.close();
latencies.sort((a, b) => a - b);
const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? 0;
process.stdout.write(
  JSON.stringify({
    requests: ok + failed,
    ok,
    failed,
    statuses,
    seconds: elapsed,
    itemsPerSec: (ok * items) / elapsed,
    reqPerSec: ok / elapsed,
    mbPerSec: bodyBytesSent / elapsed / 1e6,
    p50: pct(50),
    p99: pct(99),
    bodyBytes: messages[0].bodyBytes,
  }) + '\n',
);
