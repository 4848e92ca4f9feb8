import { IngestError } from '../ingest-error.ts';

/**
 * The request bytes one process holds at once, shared by every receiver (OTLP/HTTP, gRPC): a
 * request reserves its bytes before its body is read and releases them once answered. Past the
 * bound the gateway refuses at once (503 / UNAVAILABLE) instead of queueing without bound.
 */
export interface InflightBudget {
  /** The bound, in bytes. */
  readonly limit: number;
  /** Bytes reserved now. */
  inUse(): number;
  /**
   * Reserves `bytes`; false when that would pass the bound. A request alone may exceed it (the
   * request size limit bounds it then), so a large request is not refused forever.
   */
  tryReserve(bytes: number): boolean;
  /** Returns bytes reserved earlier; call once per successful tryReserve, with the same count. */
  release(bytes: number): void;
}

/** Seconds a client refused for load is told to wait: in-flight work drains within moments. */
export const OVERLOAD_RETRY_AFTER_SECONDS = 1;

/** The refusal when tryReserve says no: 503 / UNAVAILABLE with Retry-After, the same on every transport. */
export function inflightRefusal(budget: InflightBudget): IngestError {
  return new IngestError('unavailable', `the gateway is at its limit of ${budget.limit} in-flight request bytes (gateway.maxInflightBytes); retry shortly`, OVERLOAD_RETRY_AFTER_SECONDS);
}

export function createInflightBudget(limitBytes: number): InflightBudget {
  if (!Number.isSafeInteger(limitBytes) || limitBytes < 1) throw new Error(`gateway.maxInflightBytes: expected a positive integer, got ${limitBytes}`);
  let used = 0;
  return {
    limit: limitBytes,
    inUse: () => used,
    tryReserve(bytes) {
      if (!(bytes >= 0)) throw new Error(`tryReserve: bytes must be >= 0, got ${bytes}`);
      if (used > 0 && used + bytes > limitBytes) return false;
      used += bytes;
      return true;
    },
    release(bytes) {
      used = Math.max(0, used - bytes);
    },
  };
}
