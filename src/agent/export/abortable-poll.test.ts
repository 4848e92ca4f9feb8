import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { pollUnlessAborted } from './abortable-poll.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

test('hands back the poll’s records or its error', async () => {
  const signal = new AbortController().signal;
  assert.deepEqual(await pollUnlessAborted(Promise.resolve([1, 2]), signal), [1, 2]);
  await assert.rejects(pollUnlessAborted(Promise.reject(new Error('bus closed')), signal), /bus closed/);
});

test('an abort ends the wait with no records while the poll is still running', async () => {
  const stop = new AbortController();
  let endPoll!: (records: number[]) => void;
  const poll = new Promise<number[]>((resolve) => (endPoll = resolve));
  const waiting = pollUnlessAborted(poll, stop.signal);
  stop.abort();
  assert.deepEqual(await waiting, []);
  endPoll([1]);
  assert.deepEqual(await pollUnlessAborted(new Promise<number[]>(() => {}), stop.signal), [], 'already aborted: no wait at all');
});

/** Polls `n` times, each handing back a fresh record; returns weak references to them. */
async function pollMany(signal: AbortSignal, n: number): Promise<Array<WeakRef<object>>> {
  const refs: Array<WeakRef<object>> = [];
  for (let i = 0; i < n; i++) {
    const record = { value: Buffer.alloc(1024, i) };
    refs.push(new WeakRef(record));
    await pollUnlessAborted(Promise.resolve([record]), signal);
  }
  return refs;
}

test('many polls on one long-lived signal leave no listener and keep no records reachable', async () => {
  const signal = new AbortController().signal;
  const refs = await pollMany(signal, 200);
  assert.equal(getEventListeners(signal, 'abort').length, 0);
  // WeakRefs hold their target until the job that made them ends.
  await new Promise((resolve) => setImmediate(resolve));
  gc();
  assert.equal(refs.filter((r) => r.deref() !== undefined).length, 0, 'records of settled polls were collected');
});
