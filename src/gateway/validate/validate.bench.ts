/**
 * The validating pass against the routing scan it precedes, on the benchmark payload (an SDK's
 * batch of 500 spans with ~10 attributes each, all valid: the fast path).
 * Run: npx node src/gateway/validate/validate.bench.ts [spans=500]
 */
import { spanRequest } from '../../../bench/payloads.ts';
import { splitByResource } from '../../otlp/index.ts';
import { configSchema } from '../../config/index.ts';
import { validateRequest } from './index.ts';

const spans = Number(process.argv[2] ?? 500);
const bytes = spanRequest(spans);
const limits = configSchema.parse({}).gateway.limits;

/** Rate by CPU time (user + system) of this process: on a shared machine wall time mostly measures the neighbours. */
function measure(name: string, fn: () => unknown): number {
  for (let i = 0; i < 300; i++) fn(); // warm up the JIT
  let iterations = 0;
  const cpu = process.cpuUsage();
  const started = performance.now();
  while (performance.now() - started < 2000) {
    for (let i = 0; i < 50; i++) fn();
    iterations += 50;
  }
  const used = process.cpuUsage(cpu);
  const seconds = (used.user + used.system) / 1e6;
  const spansPerSec = (spans * iterations) / seconds;
  const mbps = (bytes.length * iterations) / seconds / 1e6;
  console.log(`${name.padEnd(32)} ${((seconds * 1e6) / iterations).toFixed(1).padStart(8)} us/request ${mbps.toFixed(0).padStart(6)} MB/s ${(spansPerSec / 1e6).toFixed(2).padStart(6)} M spans/s`);
  return spansPerSec;
}

const now = Date.now();
const check = validateRequest('traces', bytes, limits, now);
if (check.payload !== bytes || check.accepted !== spans) throw new Error('bench payload did not take the fast path');
console.log(`request: ${spans} spans, ${bytes.length} bytes (${(bytes.length / spans).toFixed(0)} B/span)`);
const route = measure('splitByResource (routing only)', () => splitByResource('traces', bytes));
const validate = measure('validateRequest (fast path)', () => validateRequest('traces', bytes, limits, now));
const both = measure('validate + route (the pipeline)', () => splitByResource('traces', validateRequest('traces', bytes, limits, now).payload));
console.log(`validation runs at ${(validate / route).toFixed(2)}x the routing scan's rate; validate + route at ${(both / route).toFixed(2)}x`);
