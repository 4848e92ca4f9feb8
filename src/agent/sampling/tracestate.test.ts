import assert from 'node:assert/strict';
import { test } from 'node:test';
import { withThreshold } from './tracestate.ts';

test('adds an ot member to an empty tracestate', () => {
  assert.equal(withThreshold('', 'c'), 'ot=th:c');
  assert.equal(withThreshold(undefined, 'c'), 'ot=th:c');
  assert.equal(withThreshold(null, 'c'), 'ot=th:c');
});

test('keeps other members and puts the changed ot member first', () => {
  assert.equal(withThreshold('congo=t61rcWkgMzE, rojo=00f067aa0ba902b7', '8'), 'ot=th:8,congo=t61rcWkgMzE,rojo=00f067aa0ba902b7');
});

test('replaces an existing th and keeps the other ot values', () => {
  assert.equal(withThreshold('a=1,ot=rv:abcdefabcdefab;th:4;x:y', 'c'), 'ot=th:c;rv:abcdefabcdefab;x:y,a=1');
  assert.equal(withThreshold('ot=th:4', 'e'), 'ot=th:e');
});

test('never grows past 32 members', () => {
  const members = Array.from({ length: 32 }, (_, i) => `k${i}=v`).join(',');
  const out = withThreshold(members, '8').split(',');
  assert.equal(out.length, 32);
  assert.equal(out[0], 'ot=th:8');
  assert.equal(out[31], 'k30=v');
});
