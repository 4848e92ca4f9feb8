/**
 * The storage consumer's yardstick (issue 3): a full protobufjs decode of the trace requests
 * bench/kafka.ts drains, spans per second on one thread, in a process of its own (a fresh heap
 * and JIT, as the issue measured it). Half-second windows after a second of warm-up; prints
 * one JSON line: {"windows": [spans/s, ...]}.
 * Run: npx node bench/decode-yardstick.ts [windows=5]
 */
import { opentelemetry } from '../src/otlp/index.ts';
import { traceBodies, SPANS } from './trace-bodies.ts';

const Req = opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
const bodies = traceBodies();

function window(ms: number): number {
  const started = performance.now();
  let spans = 0;
  while (performance.now() - started < ms) {
    for (const body of bodies) Req.decode(body);
    spans += bodies.length * SPANS;
  }
  return (spans * 1000) / (performance.now() - started);
}

window(1000);
console.log(JSON.stringify({ windows: Array.from({ length: Number(process.argv[2] ?? 5) }, () => window(500)) }));
