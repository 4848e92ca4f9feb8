import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createStore } from './clickhouse-store.ts';
import { CoveredRanges, IngestLedger } from './ledger.ts';
import { migrate } from './migrate.ts';

test('covered ranges merge overlaps and answer increasing and decreasing offsets', () => {
  const r = new CoveredRanges([
    [10, 20],
    [0, 5],
    [18, 30],
    [40, 41],
    [50, 50],
  ]);
  assert.equal(r.size, 3); // [0,5) [10,30) [40,41); the empty range is dropped
  const asked = [0, 4, 5, 9, 10, 29, 30, 39, 40, 41, 100].map((o) => r.covers(o));
  assert.deepEqual(asked, [true, true, false, false, true, true, false, false, true, false, false]);
  assert.equal(r.coveredUntil(12), 30);
  assert.equal(r.covers(3), true, 'going back finds earlier ranges');
  r.dropBelow(30);
  assert.equal(r.size, 1);
  assert.equal(r.covers(3), false);
  assert.equal(r.covers(40), true);
});

test('the ledger keeps ranges per group, topic incarnation and partition, and recording twice is harmless', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ledger-'));
  const store = await createStore({ url: `chdb://${dir}` });
  try {
    const a = new IngestLedger(store, 'storage');
    const other = new IngestLedger(store, 'metering');
    await migrate(store, { traces: 1, logs: 1, metrics: 1 });
    const id = 'id-1';
    await a.record('traces', id, 0, 0, 100, 7);
    await a.record('traces', id, 0, 100, 250, 9);
    await a.record('traces', id, 0, 100, 250, 9);
    await a.record('traces', id, 1, 0, 50, 1);
    await other.record('traces', id, 0, 300, 400, 1);
    const p0 = await a.load('traces', id, 0, 0);
    assert.equal(p0.size, 1, 'adjacent ranges merge');
    assert.equal(p0.coveredUntil(0), 250);
    assert.equal(p0.covers(250), false);
    assert.equal(p0.covers(350), false, "another group's ranges are not ours");
    const later = await a.load('traces', id, 0, 250);
    assert.equal(later.size, 0, 'ranges ending at or before the start are not loaded');

    // The topic created again (offsets from 0 again): the old incarnation's ranges are not the new one's.
    assert.equal((await a.load('traces', 'id-2', 0, 0)).size, 0, "an earlier incarnation's ranges do not cover a new one's offsets");
    await a.record('traces', 'id-2', 0, 0, 100, 3);
    assert.equal((await a.load('traces', 'id-2', 0, 0)).coveredUntil(0), 100, 'the same range in a new incarnation is recorded, not deduplicated away');
    assert.equal((await a.load('traces', id, 0, 0)).coveredUntil(0), 250);
    // Rows written before topics had ids name the bare topic: they match no incarnation.
    await store.insert('ingest_ledger', [{ ConsumerGroup: 'storage', Topic: 'logs', Partition: 0, StartOffset: 0, EndOffset: 10, Records: 1 }]);
    assert.equal((await a.load('logs', id, 0, 0)).size, 0);

    const [{ n }] = await store.query<{ n: string }>('SELECT count() AS n FROM ingest_ledger WHERE ConsumerGroup = {g:String}', { g: 'storage' });
    assert.equal(Number(n), 5, 'the repeated record was deduplicated');
    const topics = await store.query<{ t: string }>('SELECT DISTINCT Topic AS t FROM ingest_ledger ORDER BY t');
    assert.deepEqual(topics.map((r) => r.t), ['logs', 'traces@id-1', 'traces@id-2'], 'the Topic column holds <topic>@<topicId>');
  } finally {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
