import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TokenBucket } from './token-bucket.ts';

test('a bucket starts full: the burst is taken at once, one more is refused', () => {
  const b = new TokenBucket({ rate: 100, capacity: 200 }, 0);
  assert.deepEqual(b.take(150, 0), { ok: true });
  assert.deepEqual(b.take(50, 0), { ok: true });
  const refused = b.take(1, 0);
  assert.equal(refused.ok, false);
  // One token at 100/s is 10 ms away.
  assert.equal(!refused.ok && refused.retryAfterSeconds, 0.01);
});

test('refill follows the rate and stops at the capacity', () => {
  const b = new TokenBucket({ rate: 100, capacity: 200 }, 0);
  b.take(200, 0);
  assert.equal(b.tokens(500), 50);
  assert.equal(b.tokens(1_500), 150);
  assert.equal(b.tokens(60_000), 200);
});

test('retry-after is the time until the whole request fits, and a refusal takes nothing', () => {
  const b = new TokenBucket({ rate: 10, capacity: 20 }, 0);
  b.take(20, 0);
  const refused = b.take(15, 500); // 5 tokens there, 10 missing at 10/s
  assert.equal(!refused.ok && refused.retryAfterSeconds, 1);
  assert.equal(b.tokens(500), 5);
  assert.deepEqual(b.take(15, 1_500), { ok: true });
  assert.equal(b.tokens(1_500), 0);
});

test('a request bigger than the burst waits for a full bucket, then leaves it in debt', () => {
  const b = new TokenBucket({ rate: 10, capacity: 20 }, 0);
  b.take(5, 0);
  const early = b.take(50, 0);
  assert.equal(!early.ok && early.retryAfterSeconds, 0.5); // 15 there, 20 needed
  assert.deepEqual(b.take(50, 500), { ok: true });
  assert.equal(b.tokens(500), -30);
  // The debt is paid at the rate before anything else fits: the long-run rate holds.
  const after = b.take(1, 500);
  assert.equal(!after.ok && after.retryAfterSeconds, 3.1);
});

test('refund gives tokens back up to the capacity; a clock stepping back removes nothing', () => {
  const b = new TokenBucket({ rate: 10, capacity: 20 }, 1_000);
  b.take(12, 1_000);
  b.refund(5, 1_000);
  assert.equal(b.tokens(1_000), 13);
  b.refund(100, 1_000);
  assert.equal(b.tokens(1_000), 20);
  b.take(20, 1_000);
  assert.equal(b.tokens(0), 0);
  assert.equal(b.tokens(1_100), 1);
});

test('a bucket without a rate or capacity is a configuration error', () => {
  assert.throws(() => new TokenBucket({ rate: 0, capacity: 1 }, 0), /rate and capacity must be > 0/);
});
