/**
 * Test helpers for the Redis limiter: the test Redis (failing, never skipping, when it is down),
 * a private key prefix, and a TCP relay a test can cut to play an outage.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

// The test Redis, a private key prefix and their cleanup are the key store's test helpers.
export { TEST_REDIS_URL, connectTestRedis, randomKeyPrefix, dropPrefix, type AdminClient } from '../../tenancy/testing/redis.ts';

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
