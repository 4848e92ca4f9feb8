import { z } from 'zod';
import type { ApiKeyInfo, NewKeyInput } from './types.ts';

/** Same rule as `tenants[].id` in the configuration schema. */
export const TENANT_ID_PATTERN = /^[a-zA-Z0-9_.-]{1,64}$/;
const KEY_ID_PATTERN = /^key_[0-9a-f]{16}$/;
const NAME_MAX = 100;
// Control characters would let a name rewrite the terminal of whoever lists keys.
const CONTROL_CHARS = /\p{Cc}/u;

/** Most keys one store holds (revoked ones included): the mirror and the file stay small. */
export const MAX_KEYS = 10_000;

/** Bad input to a key store, naming the field it is about. */
export class KeyStoreInputError extends Error {
  readonly field: string;
  constructor(field: string, message: string) {
    super(`${field}: ${message}`);
    this.name = 'KeyStoreInputError';
    this.field = field;
  }
}

export function checkNewKey(input: NewKeyInput): NewKeyInput {
  const { tenant, name } = input;
  if (typeof tenant !== 'string' || !TENANT_ID_PATTERN.test(tenant)) {
    throw new KeyStoreInputError('tenant', `expected letters, digits, _ . - (1 to 64), got ${JSON.stringify(tenant)}`);
  }
  if (typeof name !== 'string' || name.length === 0 || name.length > NAME_MAX || CONTROL_CHARS.test(name)) {
    throw new KeyStoreInputError('name', `expected 1 to ${NAME_MAX} characters without control characters, got ${JSON.stringify(name)}`);
  }
  return { tenant, name };
}

export function checkKeyId(id: string): string {
  if (typeof id !== 'string' || !KEY_ID_PATTERN.test(id)) {
    throw new KeyStoreInputError('id', `expected key_ and 16 hex digits, got ${JSON.stringify(id)}`);
  }
  return id;
}

export function checkTenantFilter(tenant: string | undefined): void {
  if (tenant !== undefined && !TENANT_ID_PATTERN.test(tenant)) {
    throw new KeyStoreInputError('tenant', `expected letters, digits, _ . - (1 to 64), got ${JSON.stringify(tenant)}`);
  }
}

export function unknownKey(id: string): KeyStoreInputError {
  return new KeyStoreInputError('id', `no API key with id ${id}`);
}

export function tooManyKeys(): KeyStoreInputError {
  return new KeyStoreInputError('tenant', `the store already holds ${MAX_KEYS} keys (revoked ones count): no more can be created`);
}

/** A key as persisted: its info and the SHA-256 of the key, never the key. */
export const storedKeySchema = z
  .object({
    id: z.string().regex(KEY_ID_PATTERN),
    hash: z.string().regex(/^[0-9a-f]{64}$/),
    tenant: z.string().regex(TENANT_ID_PATTERN),
    name: z.string().max(NAME_MAX),
    prefix: z.string().max(32),
    createdAt: z.string(),
    lastUsedAt: z.string().nullable().default(null),
    revokedAt: z.string().optional(),
  })
  .strict();

export type StoredKey = z.infer<typeof storedKeySchema>;

export function infoOf(record: StoredKey): ApiKeyInfo {
  const info: ApiKeyInfo = {
    id: record.id,
    tenant: record.tenant,
    name: record.name,
    prefix: record.prefix,
    createdAt: record.createdAt,
    lastUsedAt: record.lastUsedAt,
  };
  if (record.revokedAt !== undefined) info.revokedAt = record.revokedAt;
  return info;
}

/** The later of two ISO times (either may be missing). */
export function laterOf(a: string | null | undefined, b: string | null | undefined): string | null {
  if (!a) return b ?? null;
  if (!b) return a;
  return a >= b ? a : b;
}

/** The listing order: oldest first, id to break ties, so output is stable. */
export function byCreation(a: ApiKeyInfo, b: ApiKeyInfo): number {
  return a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
