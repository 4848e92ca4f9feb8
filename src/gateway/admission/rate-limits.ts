import type { BucketSpec } from './token-bucket.ts';

/** One tenant's limits as configured (gateway.rateLimits.default or .tenants.<id>); 0 = unlimited. */
export interface RateLimit {
  eventsPerSecond: number;
  bytesPerSecond: number;
  burstSeconds: number;
}

/** gateway.rateLimits: the default, and whole-entry overrides per tenant. */
export interface RateLimitsConfig {
  default: RateLimit;
  tenants: Record<string, RateLimit>;
}

/** Events = spans + log records + data points; bytes = decompressed request bytes. */
export type LimitKind = 'events' | 'bytes';

export const LIMIT_KINDS: readonly LimitKind[] = ['events', 'bytes'];

const FIELD: Record<LimitKind, 'eventsPerSecond' | 'bytesPerSecond'> = { events: 'eventsPerSecond', bytes: 'bytesPerSecond' };

export const NO_LIMITS: RateLimitsConfig = Object.freeze({ default: { eventsPerSecond: 0, bytesPerSecond: 0, burstSeconds: 1 }, tenants: {} });

/** The configured limit of the tenant, its own entry if it has one, else the default. */
export function limitOf(config: RateLimitsConfig, tenant: string): RateLimit {
  return Object.hasOwn(config.tenants, tenant) ? config.tenants[tenant] : config.default;
}

/** The bucket of one kind for the tenant; null when that kind is unlimited. */
export function bucketSpecOf(config: RateLimitsConfig, tenant: string, kind: LimitKind): BucketSpec | null {
  const limit = limitOf(config, tenant);
  const rate = limit[FIELD[kind]];
  if (!(rate > 0)) return null;
  // At least one token, so a rate under one a second still lets single items through.
  return { rate, capacity: Math.max(1, rate * limit.burstSeconds) };
}

/** The config field a kind comes from, for messages that tell the operator what to change. */
export function fieldOf(kind: LimitKind): string {
  return FIELD[kind];
}

/** Checks a config built in code (the file config is checked by its schema): names the bad field. */
export function checkRateLimits(config: RateLimitsConfig): RateLimitsConfig {
  const check = (where: string, limit: RateLimit) => {
    for (const field of ['eventsPerSecond', 'bytesPerSecond', 'burstSeconds'] as const) {
      const v = limit[field];
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || (field === 'burstSeconds' && v <= 0)) {
        throw new Error(`${where}.${field}: expected a finite number ${field === 'burstSeconds' ? '> 0' : '>= 0'}, got ${JSON.stringify(v)}`);
      }
    }
  };
  check('gateway.rateLimits.default', config.default);
  for (const [tenant, limit] of Object.entries(config.tenants)) check(`gateway.rateLimits.tenants.${tenant}`, limit);
  return config;
}
