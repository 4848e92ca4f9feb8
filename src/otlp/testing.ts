/**
 * Helpers for the codec tests: a tiny protobuf writer to hand-craft (malformed) wire input, and
 * an item counter over decoded messages that serves as the oracle for the routing scanner.
 */
import type { ExportRequestBySignal } from './codec.ts';
import type { Signal } from '../telemetry/signals.ts';

export function varint(n: number | bigint): number[] {
  let v = BigInt(n);
  const out: number[] = [];
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return out;
}
export const tag = (no: number, wt: number) => varint(no * 8 + wt);
/** A length-delimited field holding the concatenated parts. */
export const ld = (no: number, ...parts: number[][]) => {
  const body = parts.flat();
  return [...tag(no, 2), ...varint(body.length), ...body];
};
export const vint = (no: number, v: number | bigint) => [...tag(no, 0), ...varint(v)];
export const str = (no: number, s: string) => ld(no, [...new TextEncoder().encode(s)]);
export const fixed64 = (no: number) => [...tag(no, 1), 1, 2, 3, 4, 5, 6, 7, 8];
export const fixed32 = (no: number) => [...tag(no, 5), 1, 2, 3, 4];
export const bytes = (...parts: number[][]) => Uint8Array.from(parts.flat());

/** Spans, log records or data points (all five point types) in a decoded request. */
export function countItems<S extends Signal>(signal: S, message: ExportRequestBySignal[S]): number {
  let n = 0;
  if (signal === 'traces') {
    for (const rs of (message as ExportRequestBySignal['traces']).resourceSpans) for (const ss of rs.scopeSpans ?? []) n += ss.spans?.length ?? 0;
  } else if (signal === 'logs') {
    for (const rl of (message as ExportRequestBySignal['logs']).resourceLogs) for (const sl of rl.scopeLogs ?? []) n += sl.logRecords?.length ?? 0;
  } else {
    for (const rm of (message as ExportRequestBySignal['metrics']).resourceMetrics)
      for (const sm of rm.scopeMetrics ?? [])
        for (const m of sm.metrics ?? []) {
          const data = m.gauge ?? m.sum ?? m.histogram ?? m.exponentialHistogram ?? m.summary;
          n += data?.dataPoints?.length ?? 0;
        }
  }
  return n;
}

/** Builds protobuf bytes for an AnyValue nested `depth` levels through array_value, without recursion. */
export function nestedAnyValue(depth: number): number[] {
  // Built inside-out, reversed, so each level only prepends its prefix.
  const rev: number[] = str(1, 'leaf').toReversed();
  for (let level = 1; level < depth; level++) {
    // AnyValue{ array_value(5): ArrayValue{ values(1): <inner AnyValue> } }
    for (const no of [1, 5]) {
      const len = rev.length;
      const prefix = [...tag(no, 2), ...varint(len)];
      for (let i = prefix.length - 1; i >= 0; i--) rev.push(prefix[i]);
    }
  }
  return rev.toReversed();
}
