import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { LocalBuckets, type RateLimiter } from './local-limiter.ts';
import { bucketSpecOf, type LimitKind, type RateLimitsConfig } from './rate-limits.ts';
import { HEARTBEAT_SCRIPT, LEASE_SCRIPT, runScript, type RedisClient } from './redis-scripts.ts';
import { ADMITTED, type BucketSpec, type Decision } from './token-bucket.ts';

/** Enough of a pino logger for the two lines an outage writes. */
export interface AdmissionLogger {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

export interface RedisRateLimiterOptions {
  /** redis://[user:password@]host:port[/db] */
  url: string;
  /** Prefix of every key (config redis.keyPrefix). Default `ollystack:`. */
  keyPrefix?: string;
  limits: RateLimitsConfig;
  logger?: AdmissionLogger;
  /** A lease is this many seconds of the tenant's rate (at least what the request needs). Default 0.1. */
  leaseSeconds?: number;
  /** How often a gateway says it is alive, and probes Redis during an outage. Default 2000 ms. */
  heartbeatMs?: number;
  /** A Redis call slower than this counts as Redis unreachable. Default 1000 ms. */
  commandTimeoutMs?: number;
  /** How long opening waits for Redis before starting in fallback. Default 2000 ms. */
  connectTimeoutMs?: number;
}

export interface RedisRateLimiter extends RateLimiter {
  /** Live gateways as last seen in Redis (1 until seen). */
  gatewayCount(): number;
  /** True while Redis is unreachable and limits are enforced locally. */
  degraded(): boolean;
}

/** One bucket's state on this gateway: tokens leased and not spent, and a remembered refusal. */
interface Lease {
  tokens: number;
  /** Until then Redis said no: refuse here without asking again. */
  deniedUntilMs: number;
  /** The lease being fetched; concurrent requests wait for it instead of asking too. */
  pending: Promise<void> | null;
}

/**
 * Per-tenant limits shared by every gateway, through Redis.
 *
 * Design: the tenant's token bucket lives in Redis (one hash per tenant and kind), refilled by
 * Redis's clock inside a Lua script (LEASE_SCRIPT), so the check and the take are one atomic
 * step whatever the number of gateways. A gateway does not ask per request: it leases a small
 * chunk (leaseSeconds of the rate, default 0.1 s, or what one request needs when more) and
 * spends it locally; it asks again when the chunk is spent. So Redis sees at most ~1/leaseSeconds
 * round trips per tenant, kind and gateway per second, however many requests there are. A
 * refusal from Redis comes with the wait until enough tokens are back; the gateway refuses
 * locally until then, so an overloaded tenant costs no round trips either.
 * Accuracy: every token admitted was granted by the one bucket, so the tier never admits more
 * than rate × time + burst; the error the other way is the unspent leases (≤ one chunk per
 * gateway, i.e. leaseSeconds of the rate), well under 10 % over a second or more.
 *
 * Outage: when Redis does not answer (a failed or timed-out call) the limiter falls back to
 * local buckets at rate / N and burst / N, N being the gateways last seen alive (each gateway
 * heartbeats into a sorted set, HEARTBEAT_SCRIPT), so the tier as a whole keeps roughly its
 * limit. It logs once when this starts and once when Redis answers again (the heartbeat keeps
 * probing), then goes back to the shared buckets.
 */
export async function createRedisRateLimiter(options: RedisRateLimiterOptions): Promise<RedisRateLimiter> {
  const { createClient } = await import('redis');
  const heartbeatMs = options.heartbeatMs ?? 2_000;
  const connectTimeoutMs = options.connectTimeoutMs ?? 2_000;
  const client: RedisClient = createClient({
    url: options.url,
    // Calls fail at once while disconnected: the local fallback answers meanwhile.
    disableOfflineQueue: true,
    socket: { connectTimeout: connectTimeoutMs, reconnectStrategy: (retries: number) => Math.min(50 * 2 ** Math.min(retries, 6), heartbeatMs) },
  });
  const limiter = new SharedLimiter(client, options);
  client.on('error', (err: Error) => limiter.unreachable(err));
  const connecting = client.connect();
  connecting.catch(() => {});
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), connectTimeoutMs);
  });
  const connected = await Promise.race([connecting.then(() => 'ok' as const, () => 'failed' as const), timeout]);
  clearTimeout(timer);
  if (connected === 'ok') await limiter.heartbeat();
  else limiter.unreachable(new Error(`no answer within ${connectTimeoutMs} ms`));
  limiter.startHeartbeat(heartbeatMs);
  return limiter;
}

class SharedLimiter implements RedisRateLimiter {
  readonly #client: RedisClient;
  readonly #limits: RateLimitsConfig;
  readonly #logger: AdmissionLogger | undefined;
  readonly #prefix: string;
  readonly #gatewaysKey: string;
  readonly #gatewayId = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  readonly #leaseSeconds: number;
  readonly #timeoutMs: number;
  readonly #url: string;
  #heartbeatMs = 2_000;
  #timer: NodeJS.Timeout | undefined;
  readonly #leases = new Map<string, Lease>();
  #gateways = 1;
  /** The local buckets standing in while Redis is unreachable; null while it answers. */
  #fallback: LocalBuckets | null = null;
  #closed = false;

  constructor(client: RedisClient, options: RedisRateLimiterOptions) {
    this.#client = client;
    this.#limits = options.limits;
    this.#logger = options.logger;
    this.#prefix = `${options.keyPrefix ?? 'ollystack:'}ratelimit:`;
    this.#gatewaysKey = `${this.#prefix}gateways`;
    this.#leaseSeconds = options.leaseSeconds ?? 0.1;
    this.#timeoutMs = options.commandTimeoutMs ?? 1_000;
    this.#url = redactedUrl(options.url);
  }

  gatewayCount(): number {
    return this.#gateways;
  }

  degraded(): boolean {
    return this.#fallback !== null;
  }

  async take(tenant: string, kind: LimitKind, amount: number): Promise<Decision> {
    const spec = bucketSpecOf(this.#limits, tenant, kind);
    if (spec === null) return ADMITTED;
    const key = `${this.#prefix}${kind}:${tenant}`;
    let lease = this.#leases.get(key);
    if (lease === undefined) {
      lease = { tokens: 0, deniedUntilMs: 0, pending: null };
      this.#leases.set(key, lease);
    }
    // A few rounds: a lease another request fetched may have been spent by others first.
    for (let round = 0; round < 4; round++) {
      if (lease.tokens >= amount) {
        lease.tokens -= amount;
        return ADMITTED;
      }
      if (this.#fallback !== null) return this.#fallback.take(tenant, kind, amount);
      const now = Date.now();
      if (now < lease.deniedUntilMs) return { ok: false, retryAfterSeconds: (lease.deniedUntilMs - now) / 1000 };
      if (lease.pending === null) {
        const l = lease;
        l.pending = this.#lease(key, l, spec, amount - l.tokens).finally(() => {
          l.pending = null;
        });
      }
      await lease.pending;
    }
    return { ok: false, retryAfterSeconds: this.#leaseSeconds };
  }

  refund(tenant: string, kind: LimitKind, amount: number): void {
    if (this.#fallback !== null) return this.#fallback.refund(tenant, kind, amount);
    const lease = this.#leases.get(`${this.#prefix}${kind}:${tenant}`);
    if (lease !== undefined) lease.tokens += amount;
  }

  /** Fetches a lease into `lease`; never throws: a failure switches to the fallback. */
  async #lease(key: string, lease: Lease, spec: BucketSpec, need: number): Promise<void> {
    const chunk = Math.max(1, Math.min(spec.capacity, Math.ceil(spec.rate * this.#leaseSeconds)));
    try {
      const reply = (await runScript(this.#client, LEASE_SCRIPT, [key], [spec.rate, spec.capacity, need, Math.max(need, chunk)], this.#timeoutMs)) as [number, number];
      const [granted, waitMs] = reply.map(Number);
      if (granted > 0) lease.tokens += granted;
      else lease.deniedUntilMs = Date.now() + Math.max(1, waitMs);
    } catch (err) {
      this.unreachable(err as Error);
    }
  }

  /** Registers this gateway and learns how many there are; the way back from an outage too. */
  async heartbeat(): Promise<void> {
    try {
      const count = Number(await runScript(this.#client, HEARTBEAT_SCRIPT, [this.#gatewaysKey], [this.#gatewayId, this.#heartbeatMs * 3], this.#timeoutMs));
      if (count >= 1) this.#gateways = count;
      if (this.#fallback !== null) {
        this.#fallback = null;
        this.#logger?.info({ url: this.#url, gateways: this.#gateways }, 'Redis reachable again: rate limits shared across gateways again');
      }
    } catch (err) {
      this.unreachable(err as Error);
    }
  }

  startHeartbeat(ms: number): void {
    this.#heartbeatMs = ms;
    this.#timer = setInterval(() => void this.heartbeat(), ms);
    // A limiter nobody closed must not keep the process alive.
    this.#timer.unref();
  }

  /** Switches to local buckets at 1/N of each limit; logs once per outage. */
  unreachable(err: Error): void {
    if (this.#closed || this.#fallback !== null) return;
    this.#fallback = new LocalBuckets(this.#limits, 1 / this.#gateways);
    this.#logger?.warn(
      { err: err.message, url: this.#url, gateways: this.#gateways },
      `Redis unreachable: rate limits enforced per gateway at 1/${this.#gateways} of each tenant's limit until it answers`,
    );
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    if (this.#client.isReady) {
      // Leave the count at once rather than after the heartbeat goes stale.
      await this.#client.sendCommand(['ZREM', this.#gatewaysKey, this.#gatewayId], { timeout: this.#timeoutMs }).catch(() => {});
      await this.#client.close().catch(() => this.#client.destroy());
    } else if (this.#client.isOpen) {
      this.#client.destroy();
    }
  }
}

/** The URL without its password, for logs. */
function redactedUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparsable Redis URL)';
  }
}
