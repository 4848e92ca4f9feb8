import type { TenantId } from '../telemetry/signals.ts';
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

type RedisClient = ReturnType<typeof import('redis').createClient>;

export const DEFAULT_REDIS_KEY_PREFIX = 'ollystack:';

export interface RedisKeyStoreOptions {
  /** redis://[user:password@]host:port[/db] or rediss://… */
  url: string;
  /** Prefix of every Redis key and channel this store uses. Default `ollystack:`. */
  keyPrefix?: string;
  /** Keep a live mirror (refresh timer, pub/sub, last-used flush). False for one-shot use such as the CLI. Default true. */
  watch?: boolean;
  /** How often the mirror is reloaded, besides pub/sub. Default 2000 ms. */
  refreshMs?: number;
  /** How often last-used times are written. Default 10 000 ms. */
  flushMs?: number;
  /** How long opening waits for Redis. Default 5000 ms. */
  connectTimeoutMs?: number;
  logger?: KeyStoreLogger;
}

/** The stored value: everything but the hash (the field name) and lastUsedAt (its own hash). */
const valueSchema = storedKeySchema.omit({ hash: true, lastUsedAt: true });
const HASH = /^[0-9a-f]{64}$/;

/** What create and revoke announce, so every process updates its mirror at once. */
interface ChangeMessage {
  op: 'create' | 'revoke';
  hash: string;
}

/**
 * Keys of the distributed mode. Redis holds `<prefix>api-keys`, a hash of key hash → JSON
 * record; `<prefix>api-keys:version`, a counter every change moves; and
 * `<prefix>api-keys:last-used`, key hash → ISO time, apart so that a last-used write can
 * never overwrite a revocation. Each process answers resolve() from its own mirror, checked
 * against the counter every refreshMs and reloaded at once on a message on
 * `<prefix>api-keys:changed`.
 * While Redis is unreachable the mirror keeps serving what it last loaded, so ingestion
 * goes on; the client reconnects by itself.
 */
export async function openRedisKeyStore(options: RedisKeyStoreOptions): Promise<KeyStore> {
  const keyPrefix = options.keyPrefix ?? DEFAULT_REDIS_KEY_PREFIX;
  if (!/^[^\s]{1,128}$/.test(keyPrefix)) throw new Error(`keyPrefix: expected 1 to 128 characters without spaces, got ${JSON.stringify(keyPrefix)}`);
  const { createClient } = await import('redis');
  const connectTimeoutMs = options.connectTimeoutMs ?? 5_000;
  const watch = options.watch ?? true;
  const client: RedisClient = createClient({
    url: options.url,
    // Commands fail at once while disconnected instead of queueing: the mirror serves meanwhile.
    disableOfflineQueue: true,
    socket: {
      connectTimeout: connectTimeoutMs,
      // A long-lived store waits out an outage; a one-shot command reports it at once.
      reconnectStrategy: watch ? (retries: number) => Math.min(100 * 2 ** Math.min(retries, 6), 5_000) : false,
    },
  });
  const store = new RedisKeyStore(client, keyPrefix, redactedUrl(options.url), options.logger);
  await store.connect(client, connectTimeoutMs);
  try {
    await store.refresh();
    if (watch) await store.watch(options.refreshMs ?? 2_000, options.flushMs ?? 10_000, connectTimeoutMs);
  } catch (err) {
    await store.close();
    throw err;
  }
  return store;
}

class RedisKeyStore implements KeyStore {
  readonly #client: RedisClient;
  #subscriber: RedisClient | null = null;
  readonly #keysKey: string;
  readonly #lastUsedKey: string;
  readonly #versionKey: string;
  readonly #channel: string;
  readonly #url: string;
  readonly #logger: KeyStoreLogger | undefined;
  readonly #mirror = new KeyMirror();
  readonly #timers: NodeJS.Timeout[] = [];
  #refreshing: Promise<void> | null = null;
  #refreshAgain = false;
  #forceNext = false;
  /** The version counter the mirror was loaded at; undefined before the first load. */
  #loadedVersion: string | null | undefined = undefined;
  /** False from the first failure until a reload succeeds: one warning per outage, not one per retry. */
  #reachable = true;
  /** Until the first load, failures are the opener's to report (it throws), not warnings. */
  #loaded = false;
  #lastError = '';
  #closed = false;
  #reportedBadRecords = 0;

  constructor(client: RedisClient, keyPrefix: string, url: string, logger: KeyStoreLogger | undefined) {
    this.#client = client;
    this.#keysKey = `${keyPrefix}api-keys`;
    this.#lastUsedKey = `${keyPrefix}api-keys:last-used`;
    this.#versionKey = `${keyPrefix}api-keys:version`;
    this.#channel = `${keyPrefix}api-keys:changed`;
    this.#url = url;
    this.#logger = logger;
    client.on('error', (err: Error) => this.#unreachable(err));
  }

  resolve(apiKey: string): TenantId | null {
    return this.#mirror.resolve(apiKey);
  }

  async create(input: NewKeyInput): Promise<CreatedApiKey> {
    const { tenant, name } = checkNewKey(input);
    if ((await this.#client.hLen(this.#keysKey)) >= MAX_KEYS) throw tooManyKeys();
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
    await this.#write(record);
    this.#mirror.add(record);
    await this.#announce({ op: 'create', hash: record.hash });
    return { ...infoOf(record), key };
  }

  async list(tenant?: TenantId): Promise<ApiKeyInfo[]> {
    checkTenantFilter(tenant);
    const [records, lastUsed] = await Promise.all([this.#readKeys(), this.#readLastUsed()]);
    return records
      .filter((r) => tenant === undefined || r.tenant === tenant)
      .map((r) => infoOf({ ...r, lastUsedAt: laterOf(lastUsed[r.hash], this.#mirror.pendingUseOf(r.hash)) }))
      .sort(byCreation);
  }

  async revoke(id: string): Promise<ApiKeyInfo> {
    checkKeyId(id);
    const record = (await this.#readKeys()).find((r) => r.id === id);
    if (record === undefined) throw unknownKey(id);
    if (record.revokedAt === undefined) {
      record.revokedAt = new Date().toISOString();
      await this.#write(record);
    }
    this.#mirror.revoke(record.hash);
    await this.#announce({ op: 'revoke', hash: record.hash });
    const lastUsed = await this.#client.hGet(this.#lastUsedKey, record.hash);
    return infoOf({ ...record, lastUsedAt: typeof lastUsed === 'string' ? lastUsed : null });
  }

  refresh(): Promise<void> {
    return this.#reload(true);
  }

  /**
   * Reloads the mirror when the version counter moved (or always, when forced): the periodic
   * check is one GET, the whole hash is read only after a change. A call during a reload runs
   * one more after it, so no change is missed.
   */
  #reload(force: boolean): Promise<void> {
    this.#forceNext ||= force;
    if (this.#refreshing) {
      this.#refreshAgain = true;
      return this.#refreshing;
    }
    const run = async () => {
      do {
        this.#refreshAgain = false;
        const forced = this.#forceNext;
        this.#forceNext = false;
        // The version is read before the records: what is loaded is at least that new.
        const version = await this.#client.get(this.#versionKey);
        if (forced || version !== this.#loadedVersion) {
          this.#mirror.replace(await this.#readKeys());
          this.#loadedVersion = version;
        }
        this.#loaded = true;
        this.#reachableAgain();
      } while (this.#refreshAgain);
    };
    this.#refreshing = run().finally(() => {
      this.#refreshing = null;
    });
    return this.#refreshing;
  }

  async flushLastUsed(): Promise<void> {
    const used = this.#mirror.takeUsed();
    if (used.size === 0) return;
    // Every process writes its own view; the times differ by at most a flush interval,
    // so the last writer winning is close enough for "last used".
    const fields: Record<string, string> = {};
    for (const [hash, at] of used) fields[hash] = new Date(at).toISOString();
    try {
      await this.#client.hSet(this.#lastUsedKey, fields);
    } catch (err) {
      this.#mirror.restoreUsed(used);
      throw err;
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const t of this.#timers) clearInterval(t);
    this.#timers.length = 0;
    try {
      await this.flushLastUsed();
    } catch (err) {
      this.#logger?.warn({ err, url: this.#url }, 'could not write API key last-used times on close');
    }
    for (const c of [this.#subscriber, this.#client]) {
      if (c === null) continue;
      if (c.isReady) await c.close().catch(() => c.destroy());
      else if (c.isOpen) c.destroy();
    }
  }

  async connect(client: RedisClient, timeoutMs: number): Promise<void> {
    // connect() keeps retrying while the server is down; give up after timeoutMs.
    const connecting = client.connect();
    connecting.catch(() => {});
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(this.#lastError || `no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([connecting, timeout]);
    } catch (err) {
      client.destroy();
      throw new Error(`cannot reach Redis at ${this.#url}: ${(err as Error).message}`, { cause: err });
    } finally {
      clearTimeout(timer);
    }
  }

  async watch(refreshMs: number, flushMs: number, connectTimeoutMs: number): Promise<void> {
    const subscriber = this.#client.duplicate();
    subscriber.on('error', (err: Error) => this.#unreachable(err));
    // After a reconnect messages may have been missed: reload rather than wait for the timer.
    subscriber.on('ready', () => this.#refreshQuietly(true));
    this.#subscriber = subscriber;
    await this.connect(subscriber, connectTimeoutMs);
    await subscriber.subscribe(this.#channel, (message: string) => this.#onChange(message));
    const refresh = setInterval(() => this.#refreshQuietly(false), refreshMs);
    const flush = setInterval(() => {
      this.flushLastUsed().catch((err) => this.#unreachable(err as Error));
    }, flushMs);
    // A store nobody closed must not keep the process alive.
    refresh.unref();
    flush.unref();
    this.#timers.push(refresh, flush);
  }

  #onChange(message: string): void {
    let change: ChangeMessage;
    try {
      change = JSON.parse(message) as ChangeMessage;
    } catch {
      return;
    }
    if (change.op === 'revoke' && typeof change.hash === 'string' && HASH.test(change.hash)) this.#mirror.revoke(change.hash);
    this.#refreshQuietly(true);
  }

  #refreshQuietly(force: boolean): void {
    this.#reload(force).catch((err) => this.#unreachable(err as Error));
  }

  /** Stores a record and moves the version counter in one step, so every poller notices. */
  async #write(record: StoredKey): Promise<void> {
    await this.#client.multi().hSet(this.#keysKey, record.hash, JSON.stringify(valueOf(record))).incr(this.#versionKey).exec();
  }

  async #announce(change: ChangeMessage): Promise<void> {
    try {
      await this.#client.publish(this.#channel, JSON.stringify(change));
    } catch (err) {
      // The change is stored; other processes see it at their next refresh instead of now.
      this.#logger?.warn({ err, url: this.#url }, 'could not announce an API key change; others see it at their next refresh');
    }
  }

  async #readKeys(): Promise<StoredKey[]> {
    const raw = (await this.#client.hGetAll(this.#keysKey)) as unknown as Record<string, string>;
    const records: StoredKey[] = [];
    let bad = 0;
    for (const [hash, value] of Object.entries(raw)) {
      const parsed = HASH.test(hash) ? valueSchema.safeParse(parseJson(value)) : null;
      if (parsed?.success) records.push({ ...parsed.data, hash, lastUsedAt: null });
      else bad++;
    }
    if (bad !== this.#reportedBadRecords) {
      this.#reportedBadRecords = bad;
      if (bad > 0) this.#logger?.warn({ key: this.#keysKey, bad }, 'ignoring malformed API key records in Redis');
    }
    return records;
  }

  async #readLastUsed(): Promise<Record<string, string>> {
    return (await this.#client.hGetAll(this.#lastUsedKey)) as unknown as Record<string, string>;
  }

  #unreachable(err: Error): void {
    this.#lastError = err.message;
    if (this.#closed || !this.#loaded || !this.#reachable) return;
    this.#reachable = false;
    this.#logger?.warn({ err, url: this.#url, keys: this.#mirror.size }, 'Redis unreachable: serving the last known API keys while reconnecting');
  }

  #reachableAgain(): void {
    if (this.#reachable) return;
    this.#reachable = true;
    this.#logger?.info({ url: this.#url, keys: this.#mirror.size }, 'Redis reachable again: API keys reloaded');
  }
}

function valueOf(record: StoredKey): Omit<StoredKey, 'hash' | 'lastUsedAt'> {
  const { hash: _hash, lastUsedAt: _lastUsedAt, ...value } = record;
  return value;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The URL without its password, for logs and errors. */
function redactedUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparsable Redis URL)';
  }
}
