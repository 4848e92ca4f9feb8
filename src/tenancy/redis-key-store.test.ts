import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, describe, it } from 'node:test';
import { openRedisKeyStore, type RedisKeyStoreOptions } from './redis-key-store.ts';
import type { KeyStore } from './types.ts';
import { captureLogger } from './testing/capture-logger.ts';
import { keyStoreContract } from './testing/key-store-contract.ts';
import { TEST_REDIS_URL, connectTestRedis, dropPrefix, randomKeyPrefix, type AdminClient } from './testing/redis.ts';
import { startTcpProxy } from './testing/tcp-proxy.ts';
import { waitFor } from './testing/wait-for.ts';

let adminClient: AdminClient | undefined;
async function admin(): Promise<AdminClient> {
  adminClient ??= await connectTestRedis();
  return adminClient;
}
after(async () => {
  await adminClient?.close();
});

keyStoreContract('redis', async () => {
  const client = await admin();
  const keyPrefix = randomKeyPrefix();
  return {
    open: () => openRedisKeyStore({ url: TEST_REDIS_URL, keyPrefix, refreshMs: 200, flushMs: 60_000 }),
    async raw() {
      const dump: Record<string, unknown> = {};
      for await (const batch of client.scanIterator({ MATCH: `${keyPrefix}*`, COUNT: 100 })) {
        for (const key of batch as string[]) dump[key] = (await client.type(key)) === 'hash' ? await client.hGetAll(key) : await client.get(key);
      }
      return JSON.stringify(dump);
    },
    destroy: () => dropPrefix(client, keyPrefix),
  };
});

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('redis key store', () => {
  async function withPrefix(fn: (open: (o?: Partial<RedisKeyStoreOptions>) => Promise<KeyStore>, keyPrefix: string, client: AdminClient) => Promise<void>) {
    const client = await admin();
    const keyPrefix = randomKeyPrefix();
    const opened: KeyStore[] = [];
    try {
      await fn(
        async (o = {}) => {
          const store = await openRedisKeyStore({ url: TEST_REDIS_URL, keyPrefix, flushMs: 60_000, ...o });
          opened.push(store);
          return store;
        },
        keyPrefix,
        client,
      );
    } finally {
      for (const s of opened) await s.close();
      await dropPrefix(client, keyPrefix);
    }
  }

  it('keeps records under the configured prefix: a hash of key hash to JSON', () =>
    withPrefix(async (open, keyPrefix, client) => {
      const store = await open();
      const created = await store.create({ tenant: 'acme', name: 'ingest' });
      const raw = await client.hGetAll(`${keyPrefix}api-keys`);
      const [field] = Object.keys(raw);
      assert.match(field, /^[0-9a-f]{64}$/);
      assert.deepEqual(JSON.parse(raw[field]), { id: created.id, tenant: 'acme', name: 'ingest', prefix: created.prefix, createdAt: created.createdAt });
    }));

  it('pub/sub: another process drops a revoked key long before its next refresh', () =>
    withPrefix(async (open) => {
      const writer = await open({ watch: false });
      // A refresh interval no test waits for: only the announcement can explain the change.
      const gateway = await open({ refreshMs: 3_600_000 });
      const created = await writer.create({ tenant: 'acme', name: 'ingest' });
      await waitFor('the gateway resolves the new key', () => gateway.resolve(created.key) === 'acme');
      await writer.revoke(created.id);
      await waitFor('the gateway drops the revoked key', () => gateway.resolve(created.key) === null);
    }));

  it('refresh: a revocation whose announcement was lost is seen at the next refresh', () =>
    withPrefix(async (open, keyPrefix, client) => {
      const gateway = await open({ refreshMs: 100 });
      const writer = await open({ watch: false });
      const created = await writer.create({ tenant: 'acme', name: 'ingest' });
      await waitFor('the gateway resolves the new key', () => gateway.resolve(created.key) === 'acme');
      const [[hash, value]] = Object.entries(await client.hGetAll(`${keyPrefix}api-keys`));
      // What revoke() writes, without the message on the channel.
      await client
        .multi()
        .hSet(`${keyPrefix}api-keys`, hash, JSON.stringify({ ...JSON.parse(value), revokedAt: new Date().toISOString() }))
        .incr(`${keyPrefix}api-keys:version`)
        .exec();
      await waitFor('the gateway drops the revoked key', () => gateway.resolve(created.key) === null);
    }));

  it('Redis down: resolve goes on serving the last known keys, warns once, and catches up after reconnecting', async (t) => {
    const url = new URL(TEST_REDIS_URL);
    const proxy = await startTcpProxy(url.hostname, Number(url.port || 6379));
    t.after(() => proxy.close());
    await withPrefix(async (open) => {
      const logger = captureLogger();
      const gateway = await open({ url: `redis://127.0.0.1:${proxy.port}`, refreshMs: 100, logger });
      const writer = await open({ watch: false });
      const known = await writer.create({ tenant: 'acme', name: 'known' });
      await waitFor('the gateway resolves the key', () => gateway.resolve(known.key) === 'acme');

      await proxy.cut();
      await waitFor('a warning that Redis is unreachable', () => logger.warnings.length > 0);
      assert.match(logger.warnings[0], /Redis unreachable/);
      const later = await writer.create({ tenant: 'acme', name: 'created during the outage' });
      // Several failed refreshes later, the known key still resolves and one warning was given.
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(gateway.resolve(known.key), 'acme');
      assert.equal(gateway.resolve(later.key), null);
      assert.equal(logger.warnings.length, 1);

      await proxy.restore();
      await waitFor('the gateway sees the key created during the outage', () => gateway.resolve(later.key) === 'acme');
      assert.equal(gateway.resolve(known.key), 'acme');
      await waitFor('a note that Redis is back', () => logger.infos.some((m) => /reachable again/.test(m)));
    });
  });

  it('refuses to open when Redis is not there, naming the URL but not its password', async () => {
    const port = await closedPort();
    await assert.rejects(
      openRedisKeyStore({ url: `redis://:hunter2secret@127.0.0.1:${port}`, connectTimeoutMs: 1_000 }),
      (err: Error) => err.message.startsWith(`cannot reach Redis at redis://:***@127.0.0.1:${port}`) && !err.message.includes('hunter2secret'),
    );
  });

  it('skips malformed records with a warning and serves the rest', () =>
    withPrefix(async (open, keyPrefix, client) => {
      const writer = await open({ watch: false });
      const good = await writer.create({ tenant: 'acme', name: 'good' });
      await client.hSet(`${keyPrefix}api-keys`, { ['0'.repeat(64)]: '{not json', 'not-a-hash': '{}' });
      const logger = captureLogger();
      const gateway = await open({ logger });
      assert.equal(gateway.resolve(good.key), 'acme');
      assert.deepEqual((await gateway.list()).map((k) => k.id), [good.id]);
      assert.equal(logger.warnings.length, 1);
      assert.match(logger.warnings[0], /malformed/);
    }));

  it('rejects a key prefix with spaces', async () => {
    await assert.rejects(openRedisKeyStore({ url: TEST_REDIS_URL, keyPrefix: 'has space' }), /^Error: keyPrefix: /);
  });
});
