import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RateEstimator } from './rate-estimator.ts';

function feed(estimator: RateEstimator, startMs: number, perSecond: number, seconds: number, stepMs = 500): number {
  let now = startMs;
  for (let i = 0; i < (seconds * 1000) / stepMs; i++) {
    estimator.add((perSecond * stepMs) / 1000);
    now += stepMs;
    estimator.update(now);
  }
  return now;
}

test('no estimate before traffic, nor during the warm-up', () => {
  const e = new RateEstimator(0, 10_000, 1_000);
  e.update(5_000);
  assert.equal(e.perSecond, undefined);
  e.add(100);
  e.update(5_500);
  assert.equal(e.perSecond, undefined);
  e.add(100);
  e.update(6_000);
  assert.equal(e.perSecond, 200);
});

test('converges on a steady rate and follows a change smoothly', () => {
  const e = new RateEstimator(0);
  let now = feed(e, 0, 1000, 30);
  assert.ok(Math.abs((e.perSecond ?? 0) - 1000) < 1);
  now = feed(e, now, 10_000, 1);
  const afterOneSecond = e.perSecond ?? 0;
  assert.ok(afterOneSecond > 1000 && afterOneSecond < 3000, `moved to ${afterOneSecond} after 1 s`);
  feed(e, now, 10_000, 60);
  assert.ok(Math.abs((e.perSecond ?? 0) - 10_000) < 100);
});

test('an update that does not move time changes nothing; its events count at the next one', () => {
  const e = new RateEstimator(0);
  const now = feed(e, 0, 100, 30);
  const before = e.perSecond ?? 0;
  e.add(500);
  e.update(now);
  e.update(now - 1);
  assert.equal(e.perSecond, before);
  e.update(now + 500);
  assert.ok((e.perSecond ?? 0) > before);
});

test('decays toward zero when traffic stops', () => {
  const e = new RateEstimator(0);
  let now = feed(e, 0, 100, 30);
  now = feed(e, now, 0, 30);
  assert.ok((e.perSecond ?? 1) < 100 * Math.exp(-2.5), `still ${e.perSecond}`);
});
