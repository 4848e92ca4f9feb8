/**
 * Idempotency keys (the IETF draft's Idempotency-Key header): a client that timed out waiting
 * for an answer cannot tell whether the gateway made the request durable, so it sends the same
 * request again. Without a key that retry is produced to the bus a second time and a query
 * shows its rows twice. With one, the repeat gets the first attempt's result and produces
 * nothing.
 *
 * Limit: the cache lives in one gateway process. A retry that a load balancer sends to another
 * gateway, or that arrives after a restart, is not recognised; a shared set (Redis, say) would
 * be the next step.
 */
import type { Signal, TenantId } from '../telemetry/signals.ts';
import { IngestError } from './ingest-error.ts';
import type { IngestResult } from './pipeline.ts';

/** Long enough to span a client's timeouts and backoff, short enough to bound memory. */
const DEFAULT_TTL_MS = 10 * 60_000;
const DEFAULT_MAX_ENTRIES = 100_000;
const MAX_KEY_LENGTH = 128;
// The characters of UUIDs, offsets and the like; nothing a log line or a map key could trip on.
const KEY_PATTERN = /^[A-Za-z0-9._:-]+$/;

export interface IdempotencyOptions {
  ttlMs?: number;
  maxEntries?: number;
  /** Milliseconds; injectable so tests can let time pass. */
  now?: () => number;
}

export interface IdempotencyCache {
  /**
   * The result of the first attempt with this key, or `attempt`'s when there is none: while
   * the first is in flight a repeat awaits it; a failed one is forgotten, so a repeat runs.
   */
  run(tenant: TenantId, signal: Signal, key: string, attempt: () => Promise<IngestResult>, fingerprint?: string): Promise<IngestResult>;
  readonly size: number;
}

interface Entry {
  atMs: number;
  /** Of the request's content: a key reused for other data is refused, never answered from here. */
  fingerprint: string;
  result: Promise<IngestResult>;
}

export function checkIdempotencyKey(key: string): void {
  if (key.length === 0 || key.length > MAX_KEY_LENGTH || !KEY_PATTERN.test(key)) {
    throw new IngestError('invalid', `invalid Idempotency-Key header: expected 1 to ${MAX_KEY_LENGTH} characters of A-Z a-z 0-9 . _ : -`);
  }
}

export function createIdempotencyCache(options: IdempotencyOptions = {}): IdempotencyCache {
  const ttlMs = options.ttlMs ?? DEFAULT_TTL_MS;
  const maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
  const now = options.now ?? Date.now;
  // Insertion order is age order: the expired and the oldest are always at the front.
  const entries = new Map<string, Entry>();

  const prune = (atMs: number) => {
    for (const [id, entry] of entries) {
      if (atMs - entry.atMs < ttlMs) break;
      entries.delete(id);
    }
  };

  const run = async (tenant: TenantId, signal: Signal, key: string, attempt: () => Promise<IngestResult>, fingerprint = ''): Promise<IngestResult> => {
    checkIdempotencyKey(key);
    // The key cannot hold a space, so neither it nor the signal can run into the tenant.
    // The signal is part of it: a client reusing a key across signals still gets each stored.
    const id = `${signal} ${key} ${tenant}`;
    const atMs = now();
    prune(atMs);
    const seen = entries.get(id);
    if (seen) {
      if (seen.fingerprint !== fingerprint) {
        // Answering from the cache would drop this data unseen: the client must use a new key.
        throw new IngestError('invalid', `Idempotency-Key ${key} was already used for a different request in the last ${Math.round(ttlMs / 60_000)} minutes; send a new key with new data`);
      }
      try {
        return await seen.result;
      } catch {
        // The first attempt failed and its entry is gone: this one is processed as new.
        return run(tenant, signal, key, attempt, fingerprint);
      }
    }
    const entry: Entry = { atMs, fingerprint, result: attempt() };
    entries.set(id, entry);
    while (entries.size > maxEntries) entries.delete(entries.keys().next().value!);
    // Attached before any repeat awaits the entry, so a repeat finds it gone when it fails.
    entry.result.catch(() => {
      if (entries.get(id) === entry) entries.delete(id);
    });
    return entry.result;
  };

  return {
    run,
    get size() {
      return entries.size;
    },
  };
}
