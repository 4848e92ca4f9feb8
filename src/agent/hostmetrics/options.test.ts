import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hostname } from 'node:os';
import { resolveHostMetricsOptions } from './options.ts';

test('defaults', () => {
  const o = resolveHostMetricsOptions();
  assert.equal(o.intervalMs, 10_000);
  assert.equal(o.procRoot, '/proc');
  assert.equal(o.sysRoot, '/sys');
  assert.equal(o.etcRoot, '/etc');
  assert.equal(o.hostName, hostname());
  assert.equal(o.now, Date.now);
});

test('bad options are errors naming the field', () => {
  assert.throws(() => resolveHostMetricsOptions({ intervalMs: 50 }), /hostmetrics: intervalMs must be .* at least 1000, got 50/);
  assert.throws(() => resolveHostMetricsOptions({ intervalMs: Number.NaN }), /intervalMs/);
  assert.throws(() => resolveHostMetricsOptions({ procRoot: '' }), /procRoot must be a non-empty path/);
  assert.throws(() => resolveHostMetricsOptions({ hostName: '' }), /hostName/);
  assert.throws(() => resolveHostMetricsOptions({ extraResourceAttributes: [{ key: '' }] }), /extraResourceAttributes\[0\]\.key/);
  assert.throws(() => resolveHostMetricsOptions({ now: 5 as unknown as () => number }), /now must be a function/);
});
