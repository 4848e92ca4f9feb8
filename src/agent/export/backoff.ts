/**
 * Retry delays: exponential backoff with full jitter (a uniform pick below the doubling
 * ceiling, so agents that lost the gateway together do not come back together), and never
 * sooner than the gateway's Retry-After, which is capped like the backoff.
 */
export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
  random: () => number;
}

/** Delay before retry number `attempt` (1 for the first retry). */
export function retryDelayMs(policy: BackoffPolicy, attempt: number, retryAfterMs: number | null): number {
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(attempt - 1, 52));
  const jittered = policy.random() * ceiling;
  if (retryAfterMs === null) return jittered;
  return Math.max(jittered, Math.min(policy.maxMs, Math.max(0, retryAfterMs)));
}
