import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ensureUsageTable, USAGE_TABLE, type UsageTableRow } from '../metering/index.ts';
import { KEY_B, createApiFixture, qs, type ApiFixture } from './testing/fixture.ts';

let f: ApiFixture;
const H10 = Date.UTC(2026, 10, 27, 10, 0, 0);
const H11 = H10 + 3_600_000;
const range = { from: new Date(H10).toISOString(), to: new Date(H11 + 3_600_000).toISOString() };

function row(over: Partial<UsageTableRow>): UsageTableRow {
  return { TenantId: 'tenant-a', Hour: H10 / 1000, Signal: 'traces', Topic: 'traces', Partition: 0, BatchStart: 0, BatchEnd: 5, Events: 10, Bytes: 100, ...over };
}

before(async () => {
  f = await createApiFixture();
  await ensureUsageTable(f.store);
  await f.store.insert(USAGE_TABLE, [
    row({}),
    row({ Partition: 1, Events: 5, Bytes: 50 }),
    row({ Hour: H11 / 1000, Signal: 'logs', Topic: 'logs', Events: 7, Bytes: 70 }),
    row({ TenantId: 'tenant-b', Signal: 'metrics', Topic: 'metrics', Events: 999, Bytes: 9999 }),
  ]);
});

after(async () => {
  await f.close();
});

test('usage: the caller sees its own rows per hour and signal, with totals for every signal', async () => {
  const res = await f.get(`/api/v1/usage?${qs(range)}`);
  assert.equal(res.status, 200);
  assert.deepEqual(res.body, {
    usage: [
      { hour: '2026-11-27T10:00:00.000Z', signal: 'traces', events: 15, bytes: 150 },
      { hour: '2026-11-27T11:00:00.000Z', signal: 'logs', events: 7, bytes: 70 },
    ],
    totals: { traces: { events: 15, bytes: 150 }, metrics: { events: 0, bytes: 0 }, logs: { events: 7, bytes: 70 } },
  });
});

test('usage: tenant B sees only its rows, whatever the query says', async () => {
  const res = await f.get(`/api/v1/usage?${qs({ ...range, tenant: 'tenant-a' })}`, KEY_B);
  assert.equal(res.status, 200);
  assert.deepEqual(res.body.usage, [{ hour: '2026-11-27T10:00:00.000Z', signal: 'metrics', events: 999, bytes: 9999 }]);
  assert.deepEqual(res.body.totals.traces, { events: 0, bytes: 0 });
});

test('usage: a bad or too wide range is a 400 naming the parameter; no key is a 401', async () => {
  const bad = await f.get(`/api/v1/usage?${qs({ from: 'yesterday', to: range.to })}`);
  assert.equal(bad.status, 400);
  assert.match(bad.body.error, /^from: /);
  const backwards = await f.get(`/api/v1/usage?${qs({ from: range.to, to: range.from })}`);
  assert.equal(backwards.status, 400);
  assert.match(backwards.body.error, /^to: must be after from/);
  const wide = await f.get(`/api/v1/usage?${qs({ from: H10 - 367 * 86_400_000, to: H10 })}`);
  assert.equal(wide.status, 400);
  assert.match(wide.body.error, /^from: .*366 days/);
  const anonymous = await f.get(`/api/v1/usage?${qs(range)}`, null);
  assert.equal(anonymous.status, 401);
});
