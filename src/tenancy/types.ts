import type { TenantId } from '../telemetry/signals.ts';

/**
 * Resolves an API key to its tenant. The tenant of every request comes from here and
 * never from the payload.
 */
export interface KeyResolver {
  resolve(apiKey: string): TenantId | null;
}
