import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OtlpDecodeError, splitByResource } from '../../otlp/index.ts';
import { IngestError } from '../ingest-error.ts';
import { validateRequest } from './index.ts';
import { LIMITS, NOW_MS, attrs, histogramPoint, logRecord, logs, metrics, nested, numberPoint, span, traces } from './testing.ts';

/** A small deterministic PRNG (mulberry32), so a failure reproduces. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('corrupted requests are either refused as malformed or come out routable with the accepted count; nothing else escapes', () => {
  const seeds = [
    ['traces', traces([span(1), span(2, { traceId: Buffer.alloc(0) }), span(3, { attributes: [{ key: 'long', value: { stringValue: 'x'.repeat(100) } }, { key: 'd', value: nested(6) }] }), span(4, { attributes: attrs(9) })])],
    ['logs', logs([logRecord(1), logRecord(2, { body: nested(3, 'map'), attributes: [{ key: 'long', value: { stringValue: 'é'.repeat(80) } }] }), logRecord(3, { timeUnixNano: '0' })])],
    ['metrics', metrics([{ name: 'g', gauge: { dataPoints: [numberPoint(1), numberPoint(2, { asDouble: undefined })] } }, { name: 'h', histogram: { dataPoints: [histogramPoint(3, 2), histogramPoint(2, 2)] } }])],
  ] as const;
  const random = prng(42);
  let refused = 0;
  let passed = 0;
  for (const [signal, original] of seeds) {
    for (let i = 0; i < 3000; i++) {
      const bytes = Buffer.from(original);
      const flips = 1 + Math.floor(random() * 3);
      for (let f = 0; f < flips; f++) bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256);
      try {
        const r = validateRequest(signal, bytes, LIMITS, NOW_MS);
        assert.ok(r.accepted >= 0 && r.rejected >= 0);
        const items = splitByResource(signal, r.payload).reduce((n, p) => n + p.items, 0);
        assert.equal(items, r.accepted, `case ${i}: routed items differ from accepted`);
        passed++;
      } catch (err) {
        // The pipeline answers 400 for both: the validator's refusal, and the router's (say, a service.name that is not UTF-8).
        const invalid = (err instanceof IngestError && err.kind === 'invalid') || err instanceof OtlpDecodeError;
        if (!invalid) throw new Error(`case ${i} (${signal}) escaped`, { cause: err });
        refused++;
      }
    }
  }
  // Both outcomes occur, so the test exercises both.
  assert.ok(refused > 100 && passed > 100, `refused ${refused}, passed ${passed}`);
});
