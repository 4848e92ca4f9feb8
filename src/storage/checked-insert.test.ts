import { test } from 'node:test';
import assert from 'node:assert/strict';
import { insertChecked, type CheckedInsert } from './checked-insert.ts';

/** A table in memory: inserts under a token already seen are dropped, as ClickHouse drops them. */
function fakeTable(opts: { rows: number; held: number; tokens?: string[]; replacing?: boolean; insertAdds?: number }) {
  const seen = new Set(opts.tokens ?? []);
  const log: string[] = [];
  let held = opts.held;
  const write: CheckedInsert = {
    what: 'batch 0-10 into t',
    rows: opts.rows,
    async insert(token) {
      log.push(`insert ${token.replace(/:again:[0-9a-f]+$/, ':again:*')}`);
      if (seen.has(token)) return;
      seen.add(token);
      held += opts.insertAdds ?? opts.rows;
    },
    async count() {
      log.push('count');
      return held;
    },
  };
  if (!opts.replacing) {
    write.remove = async () => {
      log.push('remove');
      held = 0;
    };
  }
  return { write, log };
}

test('a write the store holds whole after the insert is inserted once and counted once', async () => {
  const { write, log } = fakeTable({ rows: 10, held: 10, tokens: ['tok'] });
  await insertChecked(write, 'tok');
  assert.deepEqual(log, ['insert tok', 'count']);
});

test('a write whose token outlived all its rows is inserted again under a fresh token', async () => {
  const { write, log } = fakeTable({ rows: 10, held: 0, tokens: ['tok'] });
  const warnings: object[] = [];
  await insertChecked(write, 'tok', { warn: (o) => warnings.push(o) });
  assert.deepEqual(log, ['insert tok', 'count', 'insert tok:again:*', 'count']);
  assert.deepEqual(warnings, [{ write: 'batch 0-10 into t', rows: 10, found: 0 }]);
});

test('a write of which only a part is held is removed, then inserted again', async () => {
  const { write, log } = fakeTable({ rows: 10, held: 4, tokens: ['tok'] });
  await insertChecked(write, 'tok');
  assert.deepEqual(log, ['insert tok', 'count', 'remove', 'insert tok:again:*', 'count']);
});

test('a write held twice (more rows than it has) is removed, then inserted again', async () => {
  const { write, log } = fakeTable({ rows: 10, held: 20, tokens: ['tok'] });
  await insertChecked(write, 'tok');
  assert.deepEqual(log, ['insert tok', 'count', 'remove', 'insert tok:again:*', 'count']);
});

test('on a replacing table a repeat not yet merged away is whole, and nothing is removed', async () => {
  const { write, log } = fakeTable({ rows: 1, held: 2, tokens: ['tok'], replacing: true });
  await insertChecked(write, 'tok');
  assert.deepEqual(log, ['insert tok', 'count']);
  const short = fakeTable({ rows: 1, held: 0, tokens: ['tok'], replacing: true });
  await insertChecked(short.write, 'tok');
  assert.deepEqual(short.log, ['insert tok', 'count', 'insert tok:again:*', 'count']);
});

test('a write still not whole after inserting it again throws, naming it and the counts', async () => {
  const { write } = fakeTable({ rows: 10, held: 0, tokens: ['tok'], insertAdds: 3 });
  await assert.rejects(insertChecked(write, 'tok'), /batch 0-10 into t: the store holds 3 of its 10 rows after writing it again/);
});
