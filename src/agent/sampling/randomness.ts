/**
 * OpenTelemetry consistent probability sampling: every participant derives the same 56-bit
 * randomness R from a trace (the last 7 bytes of its W3C trace id, or an explicit `ot=rv`
 * tracestate value) and keeps the trace iff R >= T, the rejection threshold
 * T = (1 - p) * 2^56 it records as `ot=th:<T>`. Hosts with the same p keep the same traces and a
 * host with a higher p (lower T) keeps a superset; downstream OpenTelemetry samplers that read
 * `th` make the same comparison, which is why the rule is R >= T and not R < p * 2^56.
 */
import { TRACE_ID_BYTES } from '../../otlp/index.ts';

const TWO_56 = 2 ** 56;
const TWO_56N = 1n << 56n;

/** The 56 random bits of a W3C trace id (its last 7 bytes), as OpenTelemetry reads them. */
export function traceRandomness(traceId: Uint8Array): bigint {
  if (!(traceId instanceof Uint8Array) || traceId.length !== TRACE_ID_BYTES) {
    const got = traceId instanceof Uint8Array ? `${traceId.length} bytes` : typeof traceId;
    throw new RangeError(`traceId: expected ${TRACE_ID_BYTES} bytes, got ${got}`);
  }
  const high = (traceId[9] << 16) | (traceId[10] << 8) | traceId[11];
  const low = ((traceId[12] << 24) | (traceId[13] << 16) | (traceId[14] << 8) | traceId[15]) >>> 0;
  return (BigInt(high) << 32n) | BigInt(low);
}

const RV_PATTERN = /(?:^|[,\s])ot=(?:[^,]*;)?rv:([0-9a-f]{14})(?:[;,\s]|$)/;

/** An explicit `ot=rv:<14 hex digits>` randomness in a tracestate, which overrides the trace id's. */
export function explicitRandomness(traceState: string | null | undefined): bigint | undefined {
  if (!traceState || !traceState.includes('rv:')) return undefined;
  const match = RV_PATTERN.exec(traceState);
  return match ? BigInt('0x' + match[1]) : undefined;
}

/** A sampling probability in the exact form the decision and the span marks use. */
export interface SamplingThreshold {
  /** The probability T stands for, (2^56 - T) / 2^56: the requested one rounded to 56 bits. */
  probability: number;
  /** Rejection threshold T: traces whose randomness is >= T are kept. */
  threshold: bigint;
  /** The `th` value: T as 14 hex digits with trailing zeros removed; '' for p = 1 (nothing to record). */
  thHex: string;
  /** 2^56 / (2^56 - T): how many traces each kept one stands for (`sampling.adjusted_count`). */
  adjustedCount: number;
}

/** The threshold for probability p (0 < p <= 1); below 2^-56 it is the smallest representable one. */
export function thresholdFor(p: number): SamplingThreshold {
  if (!(p > 0 && p <= 1)) throw new RangeError(`probability: expected a number in (0, 1], got ${p}`);
  // p * 2^56 only shifts the exponent, so it is exact; rounding it keeps every bit a double has.
  let keptBig = BigInt(Math.round(p * TWO_56));
  if (keptBig < 1n) keptBig = 1n;
  const threshold = TWO_56N - keptBig;
  const kept = Number(keptBig);
  return {
    probability: kept / TWO_56,
    threshold,
    thHex: threshold === 0n ? '' : threshold.toString(16).padStart(14, '0').replace(/0+$/, ''),
    adjustedCount: TWO_56 / kept,
  };
}

/** p = 1: what error and slow traces are kept with. */
export const ALWAYS: SamplingThreshold = thresholdFor(1);

export function keeps(randomness: bigint, threshold: SamplingThreshold): boolean {
  return randomness >= threshold.threshold;
}
