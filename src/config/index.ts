export { configSchema, type Config } from './schema.ts';
export { loadConfig, ConfigError, envKeyFor, type LoadOptions } from './load.ts';
