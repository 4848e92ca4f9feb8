import type { TenantId } from '../telemetry/signals.ts';

/**
 * Resolves an API key to its tenant. The tenant of every request comes from here and
 * never from the payload.
 */
export interface KeyResolver {
  resolve(apiKey: string): TenantId | null;
}

/** What is known about a stored key; never the key itself. */
export interface ApiKeyInfo {
  /** Public id (`key_` + 16 hex digits), used to revoke. */
  id: string;
  tenant: TenantId;
  /** What the key is for, given at creation. */
  name: string;
  /** The first characters of the key, so humans can tell keys apart. */
  prefix: string;
  /** ISO-8601 UTC. */
  createdAt: string;
  /** ISO-8601 UTC, to the last flush (about every 10 s); null if never used. */
  lastUsedAt: string | null;
  /** ISO-8601 UTC; absent while the key is valid. */
  revokedAt?: string;
}

/** A key just created: the only time the key itself is available. */
export interface CreatedApiKey extends ApiKeyInfo {
  key: string;
}

export interface NewKeyInput {
  tenant: TenantId;
  name: string;
}

/**
 * API keys managed at run time, stored as SHA-256 hashes. resolve() is the sync hot path,
 * answered from an in-memory mirror that follows the backing store within seconds.
 */
export interface KeyStore extends KeyResolver {
  create(input: NewKeyInput): Promise<CreatedApiKey>;
  /** Every key (revoked ones too), oldest first; only the tenant's when given. */
  list(tenant?: TenantId): Promise<ApiKeyInfo[]>;
  /** Revokes the key for good; revoking twice keeps the first time. Throws KeyStoreInputError (field `id`) when unknown. */
  revoke(id: string): Promise<ApiKeyInfo>;
  /** Reloads the mirror now instead of at the next poll. */
  refresh(): Promise<void>;
  /** Writes the last-used times noted since the previous flush. */
  flushLastUsed(): Promise<void>;
  /** Stops polling, flushes last-used times, lets go of connections. */
  close(): Promise<void>;
}

/** The part of a pino logger the key stores use. */
export interface KeyStoreLogger {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}
