import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DecisionCache } from './decision-cache.ts';
import { ALWAYS, thresholdFor } from './randomness.ts';
import { randomTraceId, seededRandom } from './testing.ts';
import { traceKey } from './trace-buffer.ts';

const key = (n: number): string => {
  const id = new Uint8Array(16);
  new DataView(id.buffer).setUint32(12, n);
  return traceKey(id);
};
const [a, b, c] = [key(1), key(2), key(3)];

test('forgets the least recently used entry beyond its capacity', () => {
  const cache = new DecisionCache(2);
  cache.set(a, ALWAYS);
  cache.set(b, null);
  assert.equal(cache.get(a), ALWAYS);
  cache.set(c, thresholdFor(0.5));
  assert.equal(cache.size, 2);
  assert.equal(cache.get(b), undefined);
  assert.equal(cache.get(a), ALWAYS);
  assert.equal(cache.get(c)?.probability, 0.5);
});

test('stores null (a dropped trace) as a decision, distinct from unknown', () => {
  const cache = new DecisionCache(10);
  cache.set(a, null);
  assert.equal(cache.get(a), null);
  assert.equal(cache.get(b), undefined);
});

test('a kept decision comes back as the exact threshold it was stored with', () => {
  const cache = new DecisionCache(1000);
  const ps = [1, 0.5, 0.1, 1 / 3, 2 ** -56, 0.123456789012345];
  ps.forEach((p, i) => cache.set(key(i), thresholdFor(p)));
  // Enough other thresholds in between that the decoded ones are rebuilt, not the stored objects.
  for (let i = 0; i < 200; i++) cache.set(key(1000 + (i % 50)), thresholdFor(0.2 + i / 1000));
  ps.forEach((p, i) => assert.deepEqual(cache.get(key(i)), thresholdFor(p), `p = ${p}`));
});

test('an entry can be changed, e.g. from dropped to kept', () => {
  const cache = new DecisionCache(8);
  cache.set(a, null);
  for (let i = 0; i < 4; i++) cache.set(key(100 + i), null); // a is in an older generation now
  cache.set(a, ALWAYS);
  assert.equal(cache.get(a), ALWAYS);
  assert.equal(cache.size, 5);
});

test('trace ids that differ only in their high half are told apart', () => {
  const cache = new DecisionCache(10);
  const x = new Uint8Array(16).fill(0);
  x[0] = 1;
  const y = Uint8Array.from(x);
  y[1] = 2;
  cache.set(traceKey(x), ALWAYS);
  cache.set(traceKey(y), null);
  assert.equal(cache.get(traceKey(x)), ALWAYS);
  assert.equal(cache.get(traceKey(y)), null);
});

test('holds at most its capacity and always remembers the most recent three quarters of it', () => {
  const capacity = 10_000;
  const cache = new DecisionCache(capacity);
  const random = seededRandom(1);
  const keys = Array.from({ length: 50_000 }, () => traceKey(randomTraceId(random)));
  keys.forEach((k, i) => {
    cache.set(k, i % 2 === 0 ? ALWAYS : null);
    assert.ok(cache.size <= capacity);
  });
  const recent = keys.slice(-0.75 * capacity);
  recent.forEach((k) => assert.notEqual(cache.get(k), undefined));
  assert.equal(cache.get(keys[0]), undefined);
  // Touching an old entry keeps it through later churn, as an LRU would.
  const touchedIndex = keys.length - 0.7 * capacity;
  const touched = keys[touchedIndex];
  const expected = touchedIndex % 2 === 0 ? ALWAYS : null;
  for (let round = 0; round < 5; round++) {
    assert.equal(cache.get(touched), expected);
    for (let i = 0; i < capacity / 2; i++) cache.set(traceKey(randomTraceId(random)), null);
  }
  assert.equal(cache.get(touched), expected);
});

test('capacity 0 remembers nothing; a key that is not a traceKey is refused', () => {
  const cache = new DecisionCache(0);
  cache.set(a, ALWAYS);
  assert.equal(cache.get(a), undefined);
  assert.equal(cache.size, 0);
  assert.throws(() => new DecisionCache(10).get('short'), /16-character/);
});
