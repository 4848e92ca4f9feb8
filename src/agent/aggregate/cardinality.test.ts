import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CardinalityLimiter } from './cardinality.ts';

const parts = (...kv: Array<[string, string]>) => kv.map(([key, value]) => ({ key, value }));

describe('cardinality limiter', () => {
  test('admits up to maxSeries new series per metric name, then refuses with series_limit', () => {
    const l = new CardinalityLimiter(2, 100);
    assert.equal(l.admit('m', parts(['a', '1'])), undefined);
    assert.equal(l.admit('m', parts(['a', '2'])), undefined);
    assert.deepEqual(l.admit('m', parts(['a', '3'])), { reason: 'series_limit' });
    assert.equal(l.admit('other', parts(['a', '3'])), undefined);
    l.clear();
    assert.equal(l.admit('m', parts(['a', '3'])), undefined);
  });

  test('refuses a new value of an attribute that reached maxValues, naming the attribute', () => {
    const l = new CardinalityLimiter(100, 2);
    assert.equal(l.admit('m', parts(['user', 'u1'], ['route', '/'])), undefined);
    assert.equal(l.admit('m', parts(['user', 'u2'], ['route', '/'])), undefined);
    assert.deepEqual(l.admit('m', parts(['user', 'u3'], ['route', '/'])), { reason: 'attribute_values', attribute: 'user' });
    // Known values still make new series.
    assert.equal(l.admit('m', parts(['user', 'u1'], ['route', '/x'])), undefined);
    // A refused series did not count its values.
    assert.deepEqual(l.admit('m', parts(['user', 'u2'], ['route', '/y'])), { reason: 'attribute_values', attribute: 'route' });
  });
});
