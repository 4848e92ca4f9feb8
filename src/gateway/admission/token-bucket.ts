/** A rate and the burst allowed above it: `rate` tokens a second, at most `capacity` saved up. */
export interface BucketSpec {
  rate: number;
  capacity: number;
}

/** Taken, or how long until the tokens would be there. */
export type Decision = { ok: true } | { ok: false; retryAfterSeconds: number };

export const ADMITTED: Decision = Object.freeze({ ok: true });

/**
 * The part of a take that must be in the bucket before it is let through: the whole take, or
 * a full bucket for one larger than the bucket. A larger take then leaves the bucket in debt,
 * which later refills pay back: the long-run rate holds, and a request bigger than the burst
 * is not refused forever (the client would retry it forever).
 */
export function needed(spec: BucketSpec, amount: number): number {
  return Math.min(amount, spec.capacity);
}

/**
 * A classic token bucket, on one process's clock. It starts full. Time comes in as an
 * argument so the arithmetic can be tested without waiting.
 */
export class TokenBucket {
  readonly spec: BucketSpec;
  #tokens: number;
  #updatedMs: number;

  constructor(spec: BucketSpec, nowMs: number) {
    if (!(spec.rate > 0) || !(spec.capacity > 0)) throw new Error(`token bucket: rate and capacity must be > 0, got ${spec.rate} and ${spec.capacity}`);
    this.spec = spec;
    this.#tokens = spec.capacity;
    this.#updatedMs = nowMs;
  }

  /** Tokens in the bucket at nowMs (negative while in debt). */
  tokens(nowMs: number): number {
    this.#refill(nowMs);
    return this.#tokens;
  }

  take(amount: number, nowMs: number): Decision {
    this.#refill(nowMs);
    const need = needed(this.spec, amount);
    if (this.#tokens >= need) {
      this.#tokens -= amount;
      return ADMITTED;
    }
    return { ok: false, retryAfterSeconds: (need - this.#tokens) / this.spec.rate };
  }

  /** Gives back tokens taken for work that was refused later on. */
  refund(amount: number, nowMs: number): void {
    this.#refill(nowMs);
    this.#tokens = Math.min(this.spec.capacity, this.#tokens + amount);
  }

  #refill(nowMs: number): void {
    // A clock that steps back adds nothing rather than removing tokens.
    const elapsed = Math.max(0, nowMs - this.#updatedMs);
    this.#tokens = Math.min(this.spec.capacity, this.#tokens + (elapsed / 1000) * this.spec.rate);
    this.#updatedMs = Math.max(this.#updatedMs, nowMs);
  }
}
