/**
 * The API keys a process accepts: the default tenant's key (configured, or generated once in
 * the data folder), the configured tenants' keys, and the keys created with `ollystack keys`
 * (in the data folder when embedded, in Redis when `redis.url` is set, shared by every process).
 */
import { resolve } from 'node:path';
import type { Config } from '../config/index.ts';
import type { Logger } from '../selfobs/index.ts';
import { DEFAULT_TENANT, StaticKeyResolver, combineKeyResolvers, defaultApiKey, openFileKeyStore, openRedisKeyStore, type KeyResolver } from '../tenancy/index.ts';

export interface OpenKeys {
  resolver: KeyResolver;
  /** The default tenant's key, and whether this start generated it. */
  defaultKey: { key: string; generated: boolean };
  close(): Promise<void>;
}

export async function openKeys(config: Config, logger: Logger): Promise<OpenKeys> {
  const dataDir = resolve(config.dataDir);
  const configured = new StaticKeyResolver();
  const defaultKey = defaultApiKey(dataDir, config.apiKey);
  configured.add(defaultKey.key, DEFAULT_TENANT);
  for (const tenant of config.tenants) for (const k of tenant.apiKeys) configured.add(k, tenant.id);
  const keysLogger = logger.child({ component: 'keys' });
  const store = config.redis.url
    ? await openRedisKeyStore({ url: config.redis.url, keyPrefix: config.redis.keyPrefix, logger: keysLogger })
    : await openFileKeyStore({ dataDir, logger: keysLogger });
  return { resolver: combineKeyResolvers(configured, store), defaultKey, close: () => store.close() };
}
