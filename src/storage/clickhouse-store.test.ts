import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createStore } from './clickhouse-store.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ollystack-store-'));
const store = await createStore({ url: `chdb://${dir}` });
after(async () => {
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('a dedup token drops the repeat, and does not leak into later inserts', async () => {
  await store.command('CREATE TABLE dedup_t (i UInt32) ENGINE = MergeTree ORDER BY i SETTINGS non_replicated_deduplication_window = 100');
  await store.insert('dedup_t', [{ i: 1 }], { dedupToken: 'tok' });
  await store.insert('dedup_t', [{ i: 1 }], { dedupToken: 'tok' });
  // chDB keeps settings on its session: a token left over would drop these as duplicates of 'tok'.
  await store.insert('dedup_t', [{ i: 2 }]);
  await store.insert('dedup_t', [{ i: 3 }]);
  const rows = await store.query<{ i: number }>('SELECT i FROM dedup_t ORDER BY i');
  assert.deepEqual(rows.map((r) => r.i), [1, 2, 3]);
});

test('64-bit integers come back as strings', async () => {
  const [row] = await store.query<{ v: unknown }>('SELECT toUInt64({v:String}) AS v', { v: '18446744073709551615' });
  assert.equal(row.v, '18446744073709551615');
});

test('bad urls are rejected with the field named', async () => {
  await assert.rejects(createStore({ url: 'chdb://' }), /store\.url/);
  await assert.rejects(createStore({ url: 'ftp://x' }), /store\.url/);
});
