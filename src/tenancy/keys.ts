import { mkdirSync, readFileSync, writeFileSync, renameSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { TenantId } from '../telemetry/signals.ts';
import { generateApiKey, hashApiKey } from './key-material.ts';
import type { KeyResolver } from './types.ts';

export const DEFAULT_TENANT = 'default';

/**
 * Resolves keys through their SHA-256 hashes: the table never holds a key in clear, and a
 * lookup is a hash plus a map read, cheap enough for every request.
 */
export class StaticKeyResolver implements KeyResolver {
  readonly #byHash = new Map<string, TenantId>();

  add(apiKey: string, tenant: TenantId): void {
    this.#byHash.set(hashApiKey(apiKey), tenant);
  }

  resolve(apiKey: string): TenantId | null {
    if (!apiKey) return null;
    return this.#byHash.get(hashApiKey(apiKey)) ?? null;
  }
}

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

/** The key of `Authorization: Bearer <key>`, or null when the header is missing or malformed. */
export function apiKeyFromHeaders(headers: Record<string, string | string[] | undefined>): string | null {
  const auth = headers.authorization;
  if (typeof auth !== 'string') return null;
  const m = BEARER.exec(auth);
  return m ? m[1] : null;
}

/**
 * The default tenant's key: the configured one, else the one generated on first start and
 * kept in the data folder (readable by its owner only), so restarts keep working clients.
 */
export function defaultApiKey(dataDir: string, configured?: string): { key: string; generated: boolean } {
  if (configured) return { key: configured, generated: false };
  const file = join(dataDir, 'default-api-key');
  if (existsSync(file)) {
    const key = readFileSync(file, 'utf8').trim();
    if (key) return { key, generated: false };
  }
  mkdirSync(dataDir, { recursive: true });
  const key = generateApiKey();
  writeFileSync(file + '.tmp', key + '\n', { mode: 0o600 });
  renameSync(file + '.tmp', file);
  return { key, generated: true };
}
