import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WriteGate } from './write-gate.ts';

function deferred() {
  let resolve!: () => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

test('shared tasks overlap; an exclusive one waits for earlier tasks and holds back later ones', async () => {
  const gate = new WriteGate();
  const events: string[] = [];
  const a = deferred();
  const b = deferred();
  const x = deferred();
  const task = (name: string, d: { promise: Promise<void> }) => async () => {
    events.push(`${name}+`);
    await d.promise;
    events.push(`${name}-`);
  };
  const ra = gate.shared(task('a', a));
  const rb = gate.shared(task('b', b));
  const rx = gate.exclusive(task('x', x));
  const rc = gate.shared(async () => void events.push('c'));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(events, ['a+', 'b+'], 'shared tasks run together; the exclusive one waits');
  b.resolve();
  await rb;
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(events, ['a+', 'b+', 'b-'], 'still waiting for a');
  a.resolve();
  await ra;
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(events, ['a+', 'b+', 'b-', 'a-', 'x+'], 'the exclusive task runs alone');
  x.resolve();
  await Promise.all([rx, rc]);
  assert.deepEqual(events, ['a+', 'b+', 'b-', 'a-', 'x+', 'x-', 'c'], 'later shared tasks follow it');
  await gate.drain();
});

test('a failed task rejects its caller only; later tasks still run', async () => {
  const gate = new WriteGate();
  await assert.rejects(gate.exclusive(async () => { throw new Error('disk full'); }), /disk full/);
  await assert.rejects(gate.shared(async () => { throw new Error('shared failure'); }), /shared failure/);
  assert.equal(await gate.exclusive(async () => 7), 7);
  assert.equal(await gate.shared(async () => 8), 8);
  await gate.drain();
});
