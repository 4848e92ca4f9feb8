import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bucketCount, defaultStepSeconds, parseStepSeconds } from './step.ts';

test('steps in seconds or with a unit', () => {
  assert.equal(parseStepSeconds('15'), 15);
  assert.equal(parseStepSeconds('30s'), 30);
  assert.equal(parseStepSeconds('5m'), 300);
  assert.equal(parseStepSeconds('2h'), 7200);
  assert.equal(parseStepSeconds('1d'), 86400);
  for (const bad of ['0', '0s', '', '1.5', '-1', '5 m', '5M', '1w', '1m30s', '9999999999']) assert.equal(parseStepSeconds(bad), null, bad);
});

test('default step: range / 120 rounded up to a readable step', () => {
  assert.equal(defaultStepSeconds(60_000), 1); // 0.5 s -> at least 1 s
  assert.equal(defaultStepSeconds(3_600_000), 30); // exactly 30 s
  assert.equal(defaultStepSeconds(3_600_001), 60);
  assert.equal(defaultStepSeconds(86_400_000), 900); // 720 s -> 15 min
  assert.equal(defaultStepSeconds(400 * 86_400_000), 4 * 86400); // 3.33 d -> whole days
  for (const rangeMs of [1_000, 123_456, 7 * 86_400_000, 90 * 86_400_000]) {
    const step = defaultStepSeconds(rangeMs);
    assert.ok(rangeMs / (step * 1000) <= 120, `${rangeMs} ms gives at most 120 buckets of ${step} s`);
  }
});

test('bucket count covers partial buckets at both ends', () => {
  assert.equal(bucketCount(0, 60_000, 60_000), 1);
  assert.equal(bucketCount(0, 60_001, 60_000), 2);
  assert.equal(bucketCount(30_000, 90_000, 60_000), 2);
  assert.equal(bucketCount(60_000, 120_000, 1_000), 60);
});
