import { IngestError } from '../ingest-error.ts';
import { createLocalRateLimiter, type RateLimiter } from './local-limiter.ts';
import { checkRateLimits, fieldOf, limitOf, type LimitKind, type RateLimitsConfig } from './rate-limits.ts';
import { createRedisRateLimiter, type AdmissionLogger } from './redis-limiter.ts';

/**
 * The ingest pipeline's rate-limit step: throws IngestError('throttled') when the tenant is
 * over its limit, with the wait until enough tokens are back.
 */
export interface Admission {
  /** Decompressed request bytes, checked before the payload is decoded. */
  admitBytes(tenant: string, bytes: number): Promise<void>;
  /** Items (spans, log records, data points), checked once routing counted them. */
  admitEvents(tenant: string, events: number): Promise<void>;
  /** Gives back what was admitted for a request refused afterwards (by the events limit, or the bus). */
  refund(tenant: string, bytes: number, events: number): void;
  close(): Promise<void>;
}

export interface AdmissionOptions {
  /** gateway.rateLimits */
  limits: RateLimitsConfig;
  /** Shares the limits between gateways (redis.url, redis.keyPrefix); omitted = this process only. */
  redis?: { url: string; keyPrefix?: string };
  logger?: AdmissionLogger;
}

/** Admission over the limiter the options call for: local, or shared through Redis. */
export async function createAdmission(options: AdmissionOptions): Promise<Admission> {
  const limits = checkRateLimits(options.limits);
  const limiter = options.redis
    ? await createRedisRateLimiter({ url: options.redis.url, keyPrefix: options.redis.keyPrefix, limits, logger: options.logger })
    : createLocalRateLimiter(limits);
  return admissionOver(limiter, limits);
}

/** Admission over a given limiter (tests, and callers that build their own). */
export function admissionOver(limiter: RateLimiter, limits: RateLimitsConfig): Admission {
  const admit = async (tenant: string, kind: LimitKind, amount: number) => {
    if (amount <= 0) return;
    const decision = await limiter.take(tenant, kind, amount);
    if (!decision.ok) throw throttled(limits, tenant, kind, decision.retryAfterSeconds);
  };
  return {
    admitBytes: (tenant, bytes) => admit(tenant, 'bytes', bytes),
    admitEvents: (tenant, events) => admit(tenant, 'events', events),
    refund: (tenant, bytes, events) => {
      if (bytes > 0) limiter.refund(tenant, 'bytes', bytes);
      if (events > 0) limiter.refund(tenant, 'events', events);
    },
    close: () => limiter.close(),
  };
}

function throttled(limits: RateLimitsConfig, tenant: string, kind: LimitKind, retryAfterSeconds: number): IngestError {
  const limit = limitOf(limits, tenant);
  const rate = kind === 'events' ? limit.eventsPerSecond : limit.bytesPerSecond;
  // Retry-After is whole seconds; never 0, which clients read as "at once".
  const wait = Math.max(1, Math.ceil(retryAfterSeconds));
  return new IngestError(
    'throttled',
    `rate limit exceeded: tenant '${tenant}' may send ${rate} ${kind}/s (gateway.rateLimits ${fieldOf(kind)}, burst ${limit.burstSeconds} s); retry after ${wait} s`,
    wait,
  );
}
