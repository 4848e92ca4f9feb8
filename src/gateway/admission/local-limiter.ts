import { bucketSpecOf, type LimitKind, type RateLimitsConfig } from './rate-limits.ts';
import { ADMITTED, TokenBucket, type Decision } from './token-bucket.ts';

/** Where the tokens of every tenant's buckets come from: this process, or a store all gateways share. */
export interface RateLimiter {
  /** Takes `amount` tokens from the tenant's bucket of that kind, or says when they would be there. */
  take(tenant: string, kind: LimitKind, amount: number): Promise<Decision>;
  /** Returns tokens taken for a request refused afterwards (its bytes, when its events are over). */
  refund(tenant: string, kind: LimitKind, amount: number): void;
  close(): Promise<void>;
}

/**
 * Buckets in this process only: the whole limit for one gateway. Also the fallback of the
 * Redis limiter, with each rate divided by the number of gateways sharing it.
 */
export class LocalBuckets {
  readonly #config: RateLimitsConfig;
  readonly #share: number;
  readonly #buckets = new Map<string, TokenBucket>();
  readonly #now: () => number;

  /** `share` divides every rate and burst: 1 / gateways when standing in for the shared limit. */
  constructor(config: RateLimitsConfig, share = 1, now: () => number = Date.now) {
    this.#config = config;
    this.#share = share;
    this.#now = now;
  }

  take(tenant: string, kind: LimitKind, amount: number): Decision {
    const bucket = this.#bucket(tenant, kind);
    return bucket === null ? ADMITTED : bucket.take(amount, this.#now());
  }

  refund(tenant: string, kind: LimitKind, amount: number): void {
    this.#bucket(tenant, kind)?.refund(amount, this.#now());
  }

  #bucket(tenant: string, kind: LimitKind): TokenBucket | null {
    const key = `${kind}\u0000${tenant}`;
    let bucket = this.#buckets.get(key);
    if (bucket === undefined) {
      const spec = bucketSpecOf(this.#config, tenant, kind);
      if (spec === null) return null;
      // Tenants come from API keys, so this map is as small as the key store.
      bucket = new TokenBucket({ rate: spec.rate * this.#share, capacity: Math.max(1, spec.capacity * this.#share) }, this.#now());
      this.#buckets.set(key, bucket);
    }
    return bucket;
  }
}

/** One process is the whole gateway tier: no Redis configured. */
export function createLocalRateLimiter(config: RateLimitsConfig, now: () => number = Date.now): RateLimiter {
  const buckets = new LocalBuckets(config, 1, now);
  return {
    take: async (tenant, kind, amount) => buckets.take(tenant, kind, amount),
    refund: (tenant, kind, amount) => buckets.refund(tenant, kind, amount),
    close: async () => {},
  };
}
