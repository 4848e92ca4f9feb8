import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Signal } from '../../telemetry/index.ts';
import { packRequest, requestBody } from './packing.ts';
import type { PendingRecord } from './packing.ts';

function pending(signal: Signal, value: string, offset: number): PendingRecord {
  const record = { topic: 'buffer', partition: 0, offset, timestamp: 0, key: null, value: Buffer.from(value), headers: {} };
  return { record, meta: { signal, items: 1, itemsTotal: offset + 1 } };
}

test('a request of one record is that record’s own bytes; of several, one joined copy', () => {
  const records = [pending('logs', 'aaaa', 0), pending('logs', 'bb', 1), pending('traces', 'c', 2)];
  const one = packRequest(records, 4, Infinity)!;
  assert.equal(one.records.length, 1, 'a second record would pass maxBytes');
  assert.equal(requestBody(one), records[0].record.value, 'not copied');
  const two = packRequest(records, 1024, Infinity)!;
  assert.deepEqual(
    two.records.map((p) => p.record.offset),
    [0, 1],
    'stops at the other signal',
  );
  assert.equal(two.bytes, 6);
  assert.equal(requestBody(two).toString(), 'aaaabb');
});
