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

test('the ledger keeps ranges per group, topic and partition, and recording twice is harmless', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ledger-'));
  const store = await createStore({ url: `chdb://${dir}` });
  try {
    const a = new IngestLedger(store, 'storage');
    const other = new IngestLedger(store, 'metering');
    await migrate(store, { traces: 1, logs: 1, metrics: 1 });
    await a.record('traces', 0, 0, 100, 7);
    await a.record('traces', 0, 100, 250, 9);
    await a.record('traces', 0, 100, 250, 9);
    await a.record('traces', 1, 0, 50, 1);
    await other.record('traces', 0, 300, 400, 1);
    const p0 = await a.load('traces', 0, 0);
    assert.equal(p0.size, 1, 'adjacent ranges merge');
    assert.equal(p0.coveredUntil(0), 250);
    assert.equal(p0.covers(250), false);
    assert.equal(p0.covers(350), false, "another group's ranges are not ours");
    const later = await a.load('traces', 0, 250);
    assert.equal(later.size, 0, 'ranges ending at or before the start are not loaded');
    const [{ n }] = await store.query<{ n: string }>('SELECT count() AS n FROM ingest_ledger WHERE ConsumerGroup = {g:String}', { g: 'storage' });
    assert.equal(Number(n), 3, 'the repeated record was deduplicated');
  } finally {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
