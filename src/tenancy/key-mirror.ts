import type { TenantId } from '../telemetry/signals.ts';
import { hashApiKey } from './key-material.ts';
import type { StoredKey } from './key-records.ts';

interface ActiveKey {
  id: string;
  tenant: TenantId;
}

/**
 * The in-memory view of a key store that resolve() reads: a map from key hash to tenant,
 * so the request path never waits on a file or a network. Uses are noted here and written
 * out in batches by the store, not on every request.
 */
export class KeyMirror {
  #byHash = new Map<string, ActiveKey>();
  /** Revocation is final: a hash seen revoked is never taken back, whatever a late reload says. */
  readonly #revoked = new Set<string>();
  /** Key hash → last use (ms since epoch) not yet written out. */
  #used = new Map<string, number>();

  resolve(apiKey: string): TenantId | null {
    if (!apiKey) return null;
    const hash = hashApiKey(apiKey);
    const active = this.#byHash.get(hash);
    if (active === undefined) return null;
    this.#used.set(hash, Date.now());
    return active.tenant;
  }

  /** Replaces the whole view with what the store holds now. */
  replace(records: Iterable<StoredKey>): void {
    const next = new Map<string, ActiveKey>();
    for (const r of records) {
      if (r.revokedAt !== undefined) this.#revoked.add(r.hash);
      else if (!this.#revoked.has(r.hash)) next.set(r.hash, { id: r.id, tenant: r.tenant });
    }
    this.#byHash = next;
  }

  /** Adds a key this process just created, ahead of the next reload. */
  add(record: StoredKey): void {
    if (record.revokedAt === undefined && !this.#revoked.has(record.hash)) this.#byHash.set(record.hash, { id: record.id, tenant: record.tenant });
  }

  /** Drops one key at once, ahead of the reload that will confirm it. */
  revoke(hash: string): void {
    this.#revoked.add(hash);
    this.#byHash.delete(hash);
  }

  get size(): number {
    return this.#byHash.size;
  }

  /** Pending last-use times (hash → ms), handed over and forgotten; give them back if writing fails. */
  takeUsed(): Map<string, number> {
    const used = this.#used;
    this.#used = new Map();
    return used;
  }

  /** Puts back uses a failed flush could not write, keeping the later time. */
  restoreUsed(used: Map<string, number>): void {
    for (const [hash, at] of used) {
      const now = this.#used.get(hash);
      if (now === undefined || now < at) this.#used.set(hash, at);
    }
  }

  /** A pending last use of one key, as ISO time, for listings made before the flush. */
  pendingUseOf(hash: string): string | null {
    const at = this.#used.get(hash);
    return at === undefined ? null : new Date(at).toISOString();
  }
}
