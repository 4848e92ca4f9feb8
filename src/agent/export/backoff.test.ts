import { test } from 'node:test';
import assert from 'node:assert/strict';
import { retryDelayMs } from './backoff.ts';

const policy = (r: number) => ({ baseMs: 500, maxMs: 30_000, random: () => r });

test('full jitter: a uniform pick below a ceiling that doubles per attempt up to the max', () => {
  assert.equal(retryDelayMs(policy(0.999999), 1, null), 500 * 0.999999);
  assert.equal(retryDelayMs(policy(0.5), 1, null), 250);
  assert.equal(retryDelayMs(policy(0.5), 2, null), 500);
  assert.equal(retryDelayMs(policy(0.5), 4, null), 2_000);
  assert.equal(retryDelayMs(policy(0.5), 20, null), 15_000, 'capped at maxMs before the jitter');
  assert.equal(retryDelayMs(policy(0.5), 5_000, null), 15_000, 'no overflow for long outages');
  assert.equal(retryDelayMs(policy(0), 3, null), 0);
});

test('Retry-After is a floor, capped at the max', () => {
  assert.equal(retryDelayMs(policy(0.1), 1, 2_000), 2_000, 'waits what the gateway asked when longer than the backoff');
  assert.equal(retryDelayMs(policy(0.9), 10, 1_000), 0.9 * 30_000, 'a longer backoff stands');
  assert.equal(retryDelayMs(policy(0.1), 1, 3_600_000), 30_000, 'an hour is capped at the max');
  assert.equal(retryDelayMs(policy(0.5), 1, -5), 250);
});
