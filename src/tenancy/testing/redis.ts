import { randomBytes } from 'node:crypto';
import { createClient } from 'redis';

export const TEST_REDIS_URL = process.env.OLLYSTACK_TEST_REDIS ?? 'redis://127.0.0.1:6379';

function newAdminClient() {
  return createClient({ url: TEST_REDIS_URL, socket: { connectTimeout: 2_000, reconnectStrategy: false } });
}

export type AdminClient = ReturnType<typeof newAdminClient>;

/**
 * A plain client for tests to look at and tamper with what the store keeps. Fails (never
 * skips) when Redis does not answer: these tests are part of the suite.
 */
export async function connectTestRedis(): Promise<AdminClient> {
  const client = newAdminClient();
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

/** A prefix of its own per test, so tests on one Redis never meet. */
export function randomKeyPrefix(): string {
  return `ollystack-test:${randomBytes(6).toString('hex')}:`;
}

/** Deletes everything under the prefix. */
export async function dropPrefix(client: AdminClient, prefix: string): Promise<void> {
  const keys: string[] = [];
  for await (const batch of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 100 })) keys.push(...(batch as string[]));
  if (keys.length > 0) await client.del(keys);
}
