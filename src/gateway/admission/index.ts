/** Admission control of the gateway: per-tenant rate limits and the in-flight byte budget. */
export { createAdmission, admissionOver, type Admission, type AdmissionOptions } from './admission.ts';
export { createInflightBudget, inflightRefusal, OVERLOAD_RETRY_AFTER_SECONDS, type InflightBudget } from './inflight-budget.ts';
export { createLocalRateLimiter, type RateLimiter } from './local-limiter.ts';
export { createRedisRateLimiter, type AdmissionLogger, type RedisRateLimiter, type RedisRateLimiterOptions } from './redis-limiter.ts';
export { NO_LIMITS, type LimitKind, type RateLimit, type RateLimitsConfig } from './rate-limits.ts';
export { TokenBucket, type BucketSpec, type Decision } from './token-bucket.ts';
