export type { KeyResolver } from './types.ts';
export { StaticKeyResolver, apiKeyFromHeaders, defaultApiKey, DEFAULT_TENANT } from './keys.ts';
