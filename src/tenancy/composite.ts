import type { TenantId } from '../telemetry/signals.ts';
import type { KeyResolver } from './types.ts';

/**
 * One resolver over several (configured keys, then the key store): the first that knows the
 * key answers, so a key in the configuration cannot be overridden from the store.
 */
export function combineKeyResolvers(...resolvers: KeyResolver[]): KeyResolver {
  return {
    resolve(apiKey: string): TenantId | null {
      for (const r of resolvers) {
        const tenant = r.resolve(apiKey);
        if (tenant !== null) return tenant;
      }
      return null;
    },
  };
}
