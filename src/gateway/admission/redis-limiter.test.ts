import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RateLimitsConfig } from './rate-limits.ts';
import { createRedisRateLimiter, type AdmissionLogger, type RedisRateLimiter } from './redis-limiter.ts';
import { TEST_REDIS_URL, connectTestRedis, dropPrefix, randomKeyPrefix, startRelay, waitFor, type AdminClient } from './redis-test-support.ts';

let admin: AdminClient;
const prefixes: string[] = [];
const opened: RedisRateLimiter[] = [];

before(async () => {
  admin = await connectTestRedis();
});

after(async () => {
  for (const l of opened) await l.close();
  for (const p of prefixes) await dropPrefix(admin, p);
  await admin.close();
});

function capture() {
  const lines: Array<{ level: string; msg: string }> = [];
  const logger: AdmissionLogger = {
    warn: (_o, msg) => void lines.push({ level: 'warn', msg }),
    info: (_o, msg) => void lines.push({ level: 'info', msg }),
  };
  return { lines, logger };
}

async function open(url: string, keyPrefix: string, limits: RateLimitsConfig, extra: { logger?: AdmissionLogger; heartbeatMs?: number; connectTimeoutMs?: number } = {}) {
  const l = await createRedisRateLimiter({ url, keyPrefix, limits, ...extra });
  opened.push(l);
  return l;
}

function newPrefix(): string {
  const p = randomKeyPrefix();
  prefixes.push(p);
  return p;
}

test('two gateways under a steady overload admit the configured rate together, within 10 %', async () => {
  const rate = 2_000;
  const burstSeconds = 0.5;
  const limits: RateLimitsConfig = { default: { eventsPerSecond: rate, bytesPerSecond: 0, burstSeconds }, tenants: {} };
  const prefix = newPrefix();
  const gateways = [await open(TEST_REDIS_URL, prefix, limits), await open(TEST_REDIS_URL, prefix, limits)];
  const accepted = [0, 0];
  let offered = 0;
  const seconds = 5;
  const started = performance.now();
  const stopAt = started + seconds * 1_000;
  // Per gateway, three clients each offering 10 events every 2 ms: several times the limit.
  const client = async (g: number) => {
    while (performance.now() < stopAt) {
      offered += 10;
      const d = await gateways[g].take('acme', 'events', 10);
      if (d.ok) accepted[g] += 10;
      await sleep(2);
    }
  };
  await Promise.all([0, 0, 0, 1, 1, 1].map(client));
  const elapsed = (performance.now() - started) / 1_000;
  const total = accepted[0] + accepted[1];
  // What a bucket starting full admits over the run: the burst, then the rate.
  const expected = rate * elapsed + rate * burstSeconds;
  assert.ok(offered > 1.5 * expected, `the load must be an overload: offered ${offered}, limit ${expected.toFixed(0)}`);
  const ratio = total / expected;
  assert.ok(ratio > 0.9 && ratio < 1.1, `admitted ${total} events in ${elapsed.toFixed(2)} s, expected ~${expected.toFixed(0)} (ratio ${ratio.toFixed(3)})`);
  // Shared, not grabbed by one: each gateway got a real part of it.
  for (const a of accepted) assert.ok(a > 0.15 * total, `each gateway admits part of the limit: ${accepted.join(' / ')}`);
  // The bucket lives in Redis under the configured prefix.
  assert.equal(await admin.exists(`${prefix}ratelimit:events:acme`), 1);
});

test('Redis unreachable: each gateway limits locally at 1/N of the limit, logs once, and shares again when Redis is back', async () => {
  const limits: RateLimitsConfig = { default: { eventsPerSecond: 100, bytesPerSecond: 0, burstSeconds: 10 }, tenants: {} };
  const prefix = newPrefix();
  const relay = await startRelay(TEST_REDIS_URL);
  const { lines, logger } = capture();
  const a = await open(relay.url, prefix, limits, { logger, heartbeatMs: 100 });
  await open(TEST_REDIS_URL, prefix, limits, { heartbeatMs: 100 });
  await waitFor('gateway A to see two gateways', () => a.gatewayCount() === 2);

  await relay.cut();
  // Half of the 1000-event burst is this gateway's while it cannot reach the shared bucket.
  assert.deepEqual(await a.take('acme', 'events', 500), { ok: true });
  const refused = await a.take('acme', 'events', 400);
  assert.equal(refused.ok, false);
  assert.ok(!refused.ok && refused.retryAfterSeconds > 5, 'refill at half the rate: 400 events are 8 s away');
  assert.equal(a.degraded(), true);
  await a.take('acme', 'events', 1);
  const warnings = lines.filter((l) => l.level === 'warn');
  assert.equal(warnings.length, 1, JSON.stringify(lines));
  assert.match(warnings[0].msg, /Redis unreachable: rate limits enforced per gateway at 1\/2/);

  await relay.restore();
  await waitFor('gateway A to reach Redis again', () => !a.degraded());
  assert.ok(lines.some((l) => l.level === 'info' && /Redis reachable again/.test(l.msg)));
  // Back on the shared bucket, still full: more than this gateway's half fits.
  assert.deepEqual(await a.take('acme', 'events', 900), { ok: true });
  await relay.cut();
});

test('Redis down at start: the gateway starts, limiting locally with the whole limit', async () => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  const limits: RateLimitsConfig = { default: { eventsPerSecond: 10, bytesPerSecond: 0, burstSeconds: 10 }, tenants: {} };
  const { lines, logger } = capture();
  const l = await open(`redis://127.0.0.1:${port}`, newPrefix(), limits, { logger, connectTimeoutMs: 300 });
  assert.equal(l.degraded(), true);
  assert.deepEqual(await l.take('acme', 'events', 100), { ok: true });
  assert.equal((await l.take('acme', 'events', 50)).ok, false);
  assert.equal(lines.filter((x) => x.level === 'warn').length, 1);
});
