import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { bool, dbl, int, str } from '../../otlp/index.ts';
import { attributesKey, ownAttributes, resourceKey, scopeKey } from './series-key.ts';
import { i64 } from './test-longs.ts';

describe('series keys', () => {
  test('attribute order does not matter', () => {
    const a = attributesKey([str('route', '/a'), int('code', 200), bool('ok', true)]);
    const b = attributesKey([bool('ok', true), str('route', '/a'), int('code', 200)]);
    assert.equal(a.key, b.key);
    assert.deepEqual(
      a.parts.map((p) => p.key),
      ['code', 'ok', 'route'],
    );
  });

  test('values of different types or with separator-like text stay apart', () => {
    const keys = [
      attributesKey([str('x', '1')]).key,
      attributesKey([int('x', 1)]).key,
      attributesKey([dbl('x', 1)]).key,
      attributesKey([bool('x', true)]).key,
      attributesKey([str('x', '1'), str('y', '2')]).key,
      attributesKey([str('x', '1=1:y'), str('2', '')]).key,
      attributesKey([]).key,
    ];
    assert.equal(new Set(keys).size, keys.length);
  });

  test('an int attribute decoded as a Long matches the same value built as a number', () => {
    const long = attributesKey([{ key: 'code', value: { intValue: i64(500) } }]);
    assert.equal(long.key, attributesKey([int('code', 500)]).key);
  });

  test('resource and scope keys are order-insensitive and include what identifies them', () => {
    assert.equal(resourceKey({ attributes: [str('a', '1'), str('b', '2')] }, ''), resourceKey({ attributes: [str('b', '2'), str('a', '1')] }, undefined));
    assert.notEqual(resourceKey({ attributes: [str('a', '1')] }, ''), resourceKey({ attributes: [str('a', '2')] }, ''));
    assert.notEqual(resourceKey({ attributes: [] }, ''), resourceKey({ attributes: [] }, 'https://opentelemetry.io/schemas/1.26.0'));
    assert.notEqual(scopeKey({ name: 'lib', version: '1' }, ''), scopeKey({ name: 'lib', version: '2' }, ''));
    assert.notEqual(scopeKey({ name: 'lib1', version: '' }, ''), scopeKey({ name: 'lib', version: '1' }, ''));
  });

  test('ownAttributes copies bytes out of the decoded buffer and keeps other lists as they are', () => {
    const plain = [str('a', '1')];
    assert.equal(ownAttributes(plain), plain);
    const buffer = new Uint8Array([1, 2, 3, 4]);
    const withBytes = [{ key: 'b', value: { bytesValue: buffer.subarray(1, 3) } }];
    const owned = ownAttributes(withBytes);
    assert.notEqual(owned, withBytes);
    const bytes = owned[0].value!.bytesValue!;
    assert.deepEqual([...bytes], [2, 3]);
    assert.notEqual(bytes.buffer, buffer.buffer);
  });
});
