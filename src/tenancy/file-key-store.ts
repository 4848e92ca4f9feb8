import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { TenantId } from '../telemetry/signals.ts';
import { withFileLock } from './file-lock.ts';
import { generateApiKey, hashApiKey, newKeyId, shownPrefixOf } from './key-material.ts';
import { KeyMirror } from './key-mirror.ts';
import {
  MAX_KEYS,
  byCreation,
  checkKeyId,
  checkNewKey,
  checkTenantFilter,
  infoOf,
  laterOf,
  storedKeySchema,
  tooManyKeys,
  unknownKey,
  type StoredKey,
} from './key-records.ts';
import type { ApiKeyInfo, CreatedApiKey, KeyStore, KeyStoreLogger, NewKeyInput } from './types.ts';

/** The keys file, in the data folder. */
export const API_KEYS_FILE = 'api-keys.json';

const fileSchema = z.object({ version: z.literal(1), keys: z.array(storedKeySchema).max(MAX_KEYS) }).strict();

export interface FileKeyStoreOptions {
  dataDir: string;
  /** Follow changes other processes make (poll and flush timers). False for one-shot use such as the CLI. Default true. */
  watch?: boolean;
  /** How often the file's identity (inode, size, mtime) is checked. Default 1000 ms. */
  pollMs?: number;
  /** How often last-used times are written. Default 10 000 ms. */
  flushMs?: number;
  logger?: KeyStoreLogger;
}

/**
 * Keys of the embedded mode, in `<dataDir>/api-keys.json` (mode 0600, hashes only). Every
 * change is a locked read-modify-write replaced atomically (tmp + rename), so
 * `ollystack keys` works whether the stack runs or not, and a running stack sees the change
 * at its next poll of the file's identity: a stat, nothing read while nothing changed.
 */
export async function openFileKeyStore(options: FileKeyStoreOptions): Promise<KeyStore> {
  const store = new FileKeyStore(options);
  store.loadIfChanged();
  if (options.watch ?? true) store.startTimers(options.pollMs ?? 1_000, options.flushMs ?? 10_000);
  return store;
}

class FileKeyStore implements KeyStore {
  readonly #dir: string;
  readonly #file: string;
  readonly #lockFile: string;
  readonly #logger: KeyStoreLogger | undefined;
  readonly #mirror = new KeyMirror();
  readonly #timers: NodeJS.Timeout[] = [];
  /** Identity of the file the mirror was loaded from; '' forces a reload. */
  #loadedSignature = '';
  /** Identity of a file that failed to load, so a broken file is reported once, not every poll. */
  #reportedSignature = '';

  constructor(options: FileKeyStoreOptions) {
    this.#dir = options.dataDir;
    this.#file = join(options.dataDir, API_KEYS_FILE);
    this.#lockFile = this.#file + '.lock';
    this.#logger = options.logger;
  }

  resolve(apiKey: string): TenantId | null {
    return this.#mirror.resolve(apiKey);
  }

  async create(input: NewKeyInput): Promise<CreatedApiKey> {
    const { tenant, name } = checkNewKey(input);
    const key = generateApiKey();
    const record: StoredKey = {
      id: newKeyId(),
      hash: hashApiKey(key),
      tenant,
      name,
      prefix: shownPrefixOf(key),
      createdAt: new Date().toISOString(),
      lastUsedAt: null,
    };
    await this.#mutate((records) => {
      if (records.length >= MAX_KEYS) throw tooManyKeys();
      records.push(record);
    });
    return { ...infoOf(record), key };
  }

  async list(tenant?: TenantId): Promise<ApiKeyInfo[]> {
    checkTenantFilter(tenant);
    return this.#read()
      .filter((r) => tenant === undefined || r.tenant === tenant)
      .map((r) => infoOf({ ...r, lastUsedAt: laterOf(r.lastUsedAt, this.#mirror.pendingUseOf(r.hash)) }))
      .sort(byCreation);
  }

  async revoke(id: string): Promise<ApiKeyInfo> {
    checkKeyId(id);
    const record = await this.#mutate((records) => {
      const found = records.find((r) => r.id === id);
      if (found === undefined) throw unknownKey(id);
      found.revokedAt ??= new Date().toISOString();
      return found;
    });
    return infoOf(record);
  }

  async refresh(): Promise<void> {
    this.#loadedSignature = '';
    this.loadIfChanged();
  }

  async flushLastUsed(): Promise<void> {
    const used = this.#mirror.takeUsed();
    if (used.size === 0) return;
    try {
      await this.#mutate((records) => {
        for (const r of records) {
          const at = used.get(r.hash);
          if (at !== undefined) r.lastUsedAt = laterOf(r.lastUsedAt, new Date(at).toISOString());
        }
      });
    } catch (err) {
      this.#mirror.restoreUsed(used);
      throw err;
    }
  }

  async close(): Promise<void> {
    for (const t of this.#timers) clearInterval(t);
    this.#timers.length = 0;
    try {
      await this.flushLastUsed();
    } catch (err) {
      this.#logger?.warn({ err, file: this.#file }, 'could not write API key last-used times on close');
    }
  }

  startTimers(pollMs: number, flushMs: number): void {
    const poll = setInterval(() => this.#poll(), pollMs);
    const flush = setInterval(() => {
      this.flushLastUsed().catch((err) => this.#logger?.warn({ err, file: this.#file }, 'could not write API key last-used times; will retry'));
    }, flushMs);
    // A store nobody closed must not keep the process alive.
    poll.unref();
    flush.unref();
    this.#timers.push(poll, flush);
  }

  /** Reloads the mirror when the file is not the one it was loaded from. Throws on a broken file. */
  loadIfChanged(): void {
    // Identity first, content second: what is read is at least as new as the identity kept.
    const signature = this.#signature();
    if (signature === this.#loadedSignature) return;
    this.#mirror.replace(this.#read());
    this.#loadedSignature = signature;
  }

  #poll(): void {
    try {
      this.loadIfChanged();
    } catch (err) {
      const signature = this.#signature();
      if (signature === this.#reportedSignature) return;
      this.#reportedSignature = signature;
      // The last good keys keep working: a bad edit must not lock every client out.
      this.#logger?.warn({ err, file: this.#file, keys: this.#mirror.size }, 'API keys file unreadable; serving the last keys loaded');
    }
  }

  #signature(): string {
    try {
      const st = statSync(this.#file);
      return `${st.ino}:${st.size}:${st.mtimeMs}`;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
      throw err;
    }
  }

  #read(): StoredKey[] {
    let text: string;
    try {
      text = readFileSync(this.#file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw new Error(`${this.#file}: not valid JSON (${(err as Error).message})`, { cause: err });
    }
    const result = fileSchema.safeParse(parsed);
    if (!result.success) {
      const issue = result.error.issues[0];
      throw new Error(`${this.#file}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
    }
    return result.data.keys;
  }

  /** Locked read, change, atomic write; the mirror follows at once in this process. */
  async #mutate<T>(change: (records: StoredKey[]) => T): Promise<T> {
    mkdirSync(this.#dir, { recursive: true });
    return withFileLock(this.#lockFile, () => {
      const records = this.#read();
      const result = change(records);
      this.#write(records);
      this.#mirror.replace(records);
      this.#loadedSignature = this.#signature();
      return result;
    });
  }

  #write(records: StoredKey[]): void {
    const tmp = `${this.#file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      // 'wx': a fresh file, so the mode applies (an existing file would keep its own); flush:
      // on disk before the rename, so a crash leaves the old file or the new, never half of one.
      writeFileSync(tmp, JSON.stringify({ version: 1, keys: records }, null, 2) + '\n', { mode: 0o600, flag: 'wx', flush: true });
      renameSync(tmp, this.#file);
    } catch (err) {
      rmSync(tmp, { force: true });
      throw err;
    }
  }
}
