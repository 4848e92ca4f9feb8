export type { KeyResolver, KeyStore, KeyStoreLogger, ApiKeyInfo, CreatedApiKey, NewKeyInput } from './types.ts';
export { StaticKeyResolver, apiKeyFromHeaders, defaultApiKey, DEFAULT_TENANT } from './keys.ts';
export { combineKeyResolvers } from './composite.ts';
export { KeyStoreInputError, TENANT_ID_PATTERN, MAX_KEYS } from './key-records.ts';
export { openFileKeyStore, API_KEYS_FILE, type FileKeyStoreOptions } from './file-key-store.ts';
export { openRedisKeyStore, DEFAULT_REDIS_KEY_PREFIX, type RedisKeyStoreOptions } from './redis-key-store.ts';
