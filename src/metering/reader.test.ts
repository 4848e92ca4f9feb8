/** Reading usage from chDB: repeats of a batch count once, hours overlap the range, tenants stay apart. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createStore, type Store } from '../storage/index.ts';
import { createUsageReader } from './reader.ts';
import { ensureUsageTable, USAGE_TABLE, type UsageTableRow } from './schema.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ollystack-usage-reader-'));
const H10 = Date.UTC(2026, 10, 27, 10, 0, 0);
const H11 = H10 + 3_600_000;
let store: Store;

function row(over: Partial<UsageTableRow>): UsageTableRow {
  return { TenantId: 'r-a', Hour: H10 / 1000, Signal: 'traces', Topic: 'traces', Partition: 0, BatchStart: 0, BatchEnd: 5, Events: 10, Bytes: 100, ...over };
}

before(async () => {
  store = await createStore({ url: `chdb://${dir}` });
  await ensureUsageTable(store);
  await ensureUsageTable(store); // idempotent
  const batch = [row({}), row({ Hour: H11 / 1000, Events: 1, Bytes: 2 })];
  await store.insert(USAGE_TABLE, batch, { dedupToken: 'usage:traces:0:0:5' });
  // The same batch again under another token: as if re-sent after the dedup window forgot it.
  await store.insert(USAGE_TABLE, batch, { dedupToken: 'usage:traces:0:0:5:again' });
  await store.insert(USAGE_TABLE, [
    row({ BatchStart: 5, BatchEnd: 9, Events: 3, Bytes: 30 }),
    row({ Partition: 1, Events: 4, Bytes: 40 }),
    row({ Signal: 'logs', Topic: 'logs', Events: 6, Bytes: 60 }),
    row({ TenantId: 'r-b', Events: 1000, Bytes: 1000 }),
    row({ Hour: (H10 - 3_600_000) / 1000, Events: 500, Bytes: 500 }),
  ], { dedupToken: 'other' });
});
after(async () => {
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });
  fs.rmSync(`${dir}-insert-files`, { recursive: true, force: true });
});

test('a batch stored twice counts once; batches and partitions add up; other tenants and hours stay out', async () => {
  const rows = await createUsageReader(store).usage('r-a', H10, H11 + 3_600_000);
  assert.deepEqual(rows, [
    { tenant: 'r-a', hour: H10, signal: 'logs', events: 6, bytes: 60 },
    { tenant: 'r-a', hour: H10, signal: 'traces', events: 10 + 3 + 4, bytes: 100 + 30 + 40 },
    { tenant: 'r-a', hour: H11, signal: 'traces', events: 1, bytes: 2 },
  ]);
});

test('an hour is in when it overlaps [from, to)', async () => {
  const reader = createUsageReader(store);
  const hours = async (from: number, to: number) => [...new Set((await reader.usage('r-a', from, to)).map((r) => r.hour))];
  assert.deepEqual(await hours(H10 + 30 * 60_000, H11), [H10], 'from inside the hour takes it; to at an hour start leaves that hour out');
  assert.deepEqual(await hours(H11 - 1, H11 + 1), [H10, H11]);
  assert.deepEqual(await hours(H11 + 3_600_000, H11 + 7_200_000), []);
  await assert.rejects(reader.usage('r-a', H11, H10), /fromMs < toMs/);
});
