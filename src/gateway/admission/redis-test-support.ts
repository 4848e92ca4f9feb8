/**
 * Test helpers for the Redis limiter: the test Redis (failing, never skipping, when it is down),
 * a private key prefix, and a TCP relay a test can cut to play an outage.
 */
import { randomBytes } from 'node:crypto';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { createClient } from 'redis';

export const TEST_REDIS_URL = process.env.OLLYSTACK_TEST_REDIS ?? 'redis://127.0.0.1:6379';

export type AdminClient = ReturnType<typeof createClient>;

export async function connectTestRedis(): Promise<AdminClient> {
  const client: AdminClient = createClient({ url: TEST_REDIS_URL, socket: { connectTimeout: 2_000, reconnectStrategy: false } });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.ping();
  } catch (err) {
    client.destroy();
    throw new Error(`Redis does not answer at ${TEST_REDIS_URL} (${(err as Error).message}): run \`scripts/services up\``, { cause: err });
  }
  return client;
}

export function randomKeyPrefix(): string {
  return `ollystack-test:${randomBytes(6).toString('hex')}:`;
}

export async function dropPrefix(client: AdminClient, prefix: string): Promise<void> {
  const keys: string[] = [];
  for await (const batch of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 100 })) keys.push(...(batch as string[]));
  if (keys.length > 0) await client.del(keys);
}

export interface Relay {
  readonly url: string;
  /** Closes the listener and every connection: to clients, Redis is down. */
  cut(): Promise<void>;
  /** Listens again on the same port: Redis is back. */
  restore(): Promise<void>;
}

export async function startRelay(targetUrl: string): Promise<Relay> {
  const target = new URL(targetUrl);
  const sockets = new Set<Socket>();
  const newServer = (): Server =>
    createServer((inbound) => {
      const upstream = connect(Number(target.port || 6379), target.hostname);
      for (const s of [inbound, upstream]) {
        sockets.add(s);
        s.on('close', () => sockets.delete(s));
        s.on('error', () => {
          inbound.destroy();
          upstream.destroy();
        });
      }
      inbound.pipe(upstream).pipe(inbound);
    });
  const listen = (s: Server, port: number) => new Promise<void>((resolve, reject) => s.once('error', reject).listen(port, '127.0.0.1', () => resolve()));
  let server: Server | null = newServer();
  await listen(server, 0);
  const port = (server.address() as { port: number }).port;
  return {
    url: `redis://127.0.0.1:${port}`,
    async cut() {
      if (server === null) return;
      const s = server;
      server = null;
      const closed = new Promise<void>((resolve) => s.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
    async restore() {
      if (server !== null) return;
      server = newServer();
      await listen(server, port);
    },
  };
}

/** Polls until `check` holds; fails naming what was awaited. */
export async function waitFor(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
