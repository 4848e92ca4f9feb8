import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConsumedRecord } from '../bus/index.ts';
import { BatchCounter, hourOf, itemsOf } from './aggregate.ts';

const H10 = Date.UTC(2026, 10, 27, 10, 0, 0);
const H11 = H10 + 3_600_000;

function rec(over: Partial<ConsumedRecord> & { headers?: Record<string, string> }): ConsumedRecord {
  return { topic: 'traces', partition: 0, offset: 0, timestamp: H10, key: null, value: Buffer.alloc(10), headers: {}, ...over };
}

test('hourOf truncates to the UTC hour and clamps times a DateTime cannot hold', () => {
  assert.equal(hourOf(H10), H10);
  assert.equal(hourOf(H11 - 1), H10);
  assert.equal(hourOf(H10 + 1), H10);
  assert.equal(hourOf(-5), 0);
  assert.equal(hourOf(Number.NaN), 0);
  const last = hourOf(Number.MAX_SAFE_INTEGER);
  assert.equal(last % 3_600_000, 0);
  assert.ok(last / 1000 <= 2 ** 32 - 1, 'the last hour still fits a DateTime');
});

test('itemsOf reads a whole count and refuses anything else', () => {
  assert.equal(itemsOf({ items: '0' }), 0);
  assert.equal(itemsOf({ items: '512' }), 512);
  for (const bad of ['', '-1', '1.5', '12abc', ' 3', '1'.repeat(13)]) assert.equal(itemsOf({ items: bad }), null, bad);
  assert.equal(itemsOf({}), null);
});

test('a batch sums events and bytes per tenant, signal and hour', () => {
  const c = new BatchCounter();
  const outcomes = [
    c.add(rec({ headers: { tenant: 'a', signal: 'traces', items: '5' }, value: Buffer.alloc(100) })),
    c.add(rec({ headers: { tenant: 'a', signal: 'traces', items: '7' }, value: Buffer.alloc(50), timestamp: H10 + 59 * 60_000 })),
    c.add(rec({ headers: { tenant: 'a', signal: 'traces', items: '1' }, value: Buffer.alloc(1), timestamp: H11 })),
    c.add(rec({ headers: { tenant: 'b', signal: 'traces', items: '2' }, value: Buffer.alloc(20) })),
    c.add(rec({ topic: 'logs', headers: { tenant: 'a', signal: 'logs', items: '3' }, value: Buffer.alloc(30) })),
  ];
  assert.deepEqual(outcomes, ['counted', 'counted', 'counted', 'counted', 'counted']);
  const rows = c.rows('traces', 3, 40, 45);
  const byKey = Object.fromEntries(rows.map((r) => [`${r.TenantId}/${r.Signal}/${r.Hour * 1000}`, [r.Events, r.Bytes]]));
  assert.deepEqual(byKey, {
    [`a/traces/${H10}`]: [12, 150],
    [`a/traces/${H11}`]: [1, 1],
    [`b/traces/${H10}`]: [2, 20],
    [`a/logs/${H10}`]: [3, 30],
  });
  for (const r of rows) assert.deepEqual([r.Topic, r.Partition, r.BatchStart, r.BatchEnd], ['traces', 3, 40, 45]);
});

test('no tenant: not counted; no item count: bytes counted, events zero; a bad signal header falls back to the topic', () => {
  const c = new BatchCounter();
  assert.equal(c.add(rec({ headers: { signal: 'traces', items: '9' }, value: Buffer.alloc(99) })), 'no-tenant');
  assert.equal(c.size, 0);
  assert.equal(c.add(rec({ topic: 'metrics', headers: { tenant: 'a', signal: 'spans', items: 'x' }, value: Buffer.alloc(8) })), 'no-items');
  assert.equal(c.add(rec({ topic: 'metrics', headers: { tenant: 'a', items: '4' }, value: Buffer.alloc(2) })), 'counted');
  const rows = c.rows('metrics', 0, 0, 3);
  assert.equal(rows.length, 1);
  assert.deepEqual([rows[0].Signal, rows[0].Events, rows[0].Bytes], ['metrics', 4, 10]);
});
