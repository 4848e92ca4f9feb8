import { test } from 'node:test';
import assert from 'node:assert/strict';
import { searchTokens } from './tokens.ts';

test('splits on anything but ASCII letters, digits and non-ASCII, lowercases ASCII, dedupes', () => {
  assert.deepEqual(searchTokens('Payment FAILED: card-declined (code=42) failed'), ['payment', 'failed', 'card', 'declined', 'code', '42']);
  assert.deepEqual(searchTokens("x' OR 1=1 --"), ['x', 'or', '1']);
  assert.deepEqual(searchTokens('  !!! '), []);
});

test('non-ASCII stays inside tokens and keeps its case, as ClickHouse lower() does', () => {
  assert.deepEqual(searchTokens('Größe ÄRGER'), ['größe', 'Ärger']);
});
