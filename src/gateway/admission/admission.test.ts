import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IngestError } from '../ingest-error.ts';
import { admissionOver } from './admission.ts';
import { createInflightBudget, inflightRefusal } from './inflight-budget.ts';
import { createLocalRateLimiter } from './local-limiter.ts';
import type { RateLimitsConfig } from './rate-limits.ts';

const LIMITS: RateLimitsConfig = {
  default: { eventsPerSecond: 100, bytesPerSecond: 0, burstSeconds: 2 },
  tenants: {
    big: { eventsPerSecond: 1_000, bytesPerSecond: 0, burstSeconds: 1 },
    tiny: { eventsPerSecond: 0, bytesPerSecond: 50, burstSeconds: 2 },
  },
};

/** A clock the test moves, so no assertion depends on how fast the machine is. */
function clock() {
  let now = 0;
  return { now: () => now, advance: (ms: number) => void (now += ms) };
}

async function refusal(p: Promise<void>): Promise<IngestError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof IngestError);
    return err;
  }
  assert.fail('expected a refusal');
}

test('over the default limit: throttled, naming the tenant, the limit and its rate, with a whole-second retry', async () => {
  const c = clock();
  const admission = admissionOver(createLocalRateLimiter(LIMITS, c.now), LIMITS);
  await admission.admitEvents('acme', 200); // the 2 s burst
  const err = await refusal(admission.admitEvents('acme', 50));
  assert.equal(err.kind, 'throttled');
  assert.equal(err.httpStatus, 429);
  assert.match(err.message, /tenant 'acme' may send 100 events\/s \(gateway\.rateLimits eventsPerSecond, burst 2 s\)/);
  assert.equal(err.retryAfterSeconds, 1); // 0.5 s rounded up: Retry-After is whole seconds
  c.advance(500);
  await admission.admitEvents('acme', 50);
});

test('per-tenant entries override the default; tenants do not share buckets', async () => {
  const c = clock();
  const admission = admissionOver(createLocalRateLimiter(LIMITS, c.now), LIMITS);
  await admission.admitEvents('big', 1_000);
  await refusal(admission.admitEvents('big', 1));
  // 'other' has the default 200-event burst, untouched by 'big'.
  await admission.admitEvents('other', 200);
  // 'tiny' overrides events to unlimited and limits bytes instead.
  await admission.admitEvents('tiny', 1_000_000);
  await admission.admitBytes('tiny', 100);
  const err = await refusal(admission.admitBytes('tiny', 60));
  assert.match(err.message, /tenant 'tiny' may send 50 bytes\/s \(gateway\.rateLimits bytesPerSecond/);
  assert.equal(err.retryAfterSeconds, 2); // 60 bytes at 50/s
});

test('refunded bytes and events can be used again', async () => {
  const c = clock();
  const admission = admissionOver(createLocalRateLimiter(LIMITS, c.now), LIMITS);
  await admission.admitBytes('tiny', 100);
  admission.refund('tiny', 100, 0);
  await admission.admitBytes('tiny', 100);
  await refusal(admission.admitBytes('tiny', 1));
  await admission.admitEvents('acme', 200);
  admission.refund('acme', 0, 150);
  await admission.admitEvents('acme', 150);
  await refusal(admission.admitEvents('acme', 1));
});

test('a hand-built config with a bad field is refused naming it', async () => {
  const { createAdmission } = await import('./admission.ts');
  await assert.rejects(
    createAdmission({ limits: { default: LIMITS.default, tenants: { x: { eventsPerSecond: -1, bytesPerSecond: 0, burstSeconds: 1 } } } }),
    /gateway\.rateLimits\.tenants\.x\.eventsPerSecond/,
  );
});

test('in-flight budget: reserves up to the bound, refuses past it, frees on release', () => {
  const budget = createInflightBudget(1_000);
  assert.equal(budget.tryReserve(600), true);
  assert.equal(budget.tryReserve(400), true);
  assert.equal(budget.tryReserve(1), false);
  assert.equal(budget.inUse(), 1_000);
  budget.release(400);
  assert.equal(budget.tryReserve(300), true);
  assert.equal(budget.inUse(), 900);
  budget.release(900);
  // Alone, a request larger than the bound is let through (the request size limit bounds it).
  assert.equal(budget.tryReserve(5_000), true);
  assert.equal(budget.tryReserve(1), false);
  budget.release(5_000);
  assert.equal(budget.inUse(), 0);
  // The refusal every transport gives: 503 / UNAVAILABLE, retry in a second, naming the setting.
  const overload = inflightRefusal(budget);
  assert.deepEqual([overload.httpStatus, overload.grpcCode, overload.retryAfterSeconds], [503, 14, 1]);
  assert.match(overload.message, /limit of 1000 in-flight request bytes \(gateway\.maxInflightBytes\)/);
});
