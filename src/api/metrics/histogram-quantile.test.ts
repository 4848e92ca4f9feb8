import { test } from 'node:test';
import assert from 'node:assert/strict';
import { histogramQuantile, mergeLayouts } from './histogram-quantile.ts';

test('interpolates inside the bucket holding the rank (hand-computed)', () => {
  // 40 observations: 10 in (0,10], 20 in (10,20], 10 in (20,40].
  const bounds = [10, 20, 40];
  const counts = [10, 20, 10, 0];
  assert.equal(histogramQuantile(0.5, bounds, counts), 15); // rank 20: 10 + 10 * (10 / 20)
  assert.equal(histogramQuantile(0.9, bounds, counts), 32); // rank 36: 20 + 20 * (6 / 10)
  assert.equal(histogramQuantile(0.1, bounds, counts), 4); // rank 4: 0 + 10 * (4 / 10)
});

test('rank in the +Inf bucket answers the highest finite bound', () => {
  assert.equal(histogramQuantile(0.99, [1, 2, 5], [1, 1, 1, 7]), 5);
});

test('a first bucket with a non-positive bound answers that bound', () => {
  assert.equal(histogramQuantile(0.5, [-1, 5], [10, 0, 0]), -1);
});

test('no observations, or no finite bound, gives NaN', () => {
  assert.ok(Number.isNaN(histogramQuantile(0.5, [1, 2], [0, 0, 0])));
  assert.ok(Number.isNaN(histogramQuantile(0.5, [], [5])));
  assert.ok(Number.isNaN(histogramQuantile(0.5, [1, 2], [1, 1]))); // malformed: one count short
});

test('merging equal layouts sums their counts', () => {
  assert.deepEqual(mergeLayouts([{ bounds: [1, 2], counts: [1, 2, 3] }, { bounds: [1, 2], counts: [4, 0, 1] }]), { bounds: [1, 2], counts: [5, 2, 4] });
});

test('merging different layouts keeps every observation and the cumulative counts at shared bounds', () => {
  const a = { bounds: [1, 4], counts: [2, 3, 1] }; // cumulative at 1: 2, at 4: 5, total 6
  const b = { bounds: [2, 4], counts: [1, 1, 2] }; // cumulative at 2: 1, at 4: 2, total 4
  const merged = mergeLayouts([a, b]);
  assert.deepEqual(merged.bounds, [1, 2, 4]);
  const cumulative = merged.counts.map((_, i) => merged.counts.slice(0, i + 1).reduce((x, y) => x + y, 0));
  assert.equal(cumulative[merged.counts.length - 1], 10);
  assert.equal(cumulative[2], 5 + 2); // at 4: both layouts have the bound
  assert.equal(cumulative[0], 2 + 0); // at 1: b has nothing at or below 1
  assert.equal(cumulative[1], 2 + 1); // at 2: a still at its bound 1
});
