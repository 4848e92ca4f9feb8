/**
 * Micro-benchmark of the gateway's routing scanner against a full decode of the same bytes.
 * Run: npx node src/otlp/route.bench.ts [spans=500] [services=1]
 */
import { decodeRequest, encodeRequest } from './codec.ts';
import { largeTraces } from './fixtures.ts';
import { opentelemetry } from './generated/otlp.js';
import { splitByResource } from './route.ts';

const spans = Number(process.argv[2] ?? 500);
const services = Number(process.argv[3] ?? 1);
const bytes = encodeRequest('traces', largeTraces(spans, services));

function measure(name: string, fn: () => unknown): number {
  for (let i = 0; i < 200; i++) fn(); // warm up the JIT
  let iterations = 0;
  const started = performance.now();
  let elapsed = 0;
  while (elapsed < 1500) {
    for (let i = 0; i < 50; i++) fn();
    iterations += 50;
    elapsed = performance.now() - started;
  }
  const perCallUs = (elapsed * 1000) / iterations;
  const mbps = (bytes.length * iterations) / (elapsed / 1000) / 1e6;
  const spansPerSec = (spans * iterations) / (elapsed / 1000);
  console.log(
    `${name.padEnd(34)} ${perCallUs.toFixed(1).padStart(9)} us/request ${mbps.toFixed(0).padStart(7)} MB/s ${(spansPerSec / 1e6).toFixed(2).padStart(7)} M spans/s`,
  );
  return perCallUs;
}

console.log(`request: ${spans} spans, ${services} service(s), ${bytes.length} bytes (${(bytes.length / spans).toFixed(0)} B/span)`);
const route = measure('splitByResource', () => splitByResource('traces', bytes));
const raw = measure('protobufjs decode (no validation)', () => opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest.decode(bytes));
const full = measure('decodeRequest (validated decode)', () => decodeRequest('traces', bytes));
console.log(`routing is ${(raw / route).toFixed(1)}x faster than a protobufjs decode, ${(full / route).toFixed(1)}x faster than decodeRequest`);
