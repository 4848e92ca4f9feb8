import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createIdempotencyCache } from './idempotency.ts';
import { IngestError } from './ingest-error.ts';
import type { IngestResult } from './pipeline.ts';

/** An attempt that counts its runs and answers with the run number, so results can be told apart. */
function counting() {
  let runs = 0;
  const attempt = async (): Promise<IngestResult> => {
    runs++;
    return { accepted: runs, rejected: 0, message: `run ${runs}` };
  };
  return { attempt, runs: () => runs };
}

test('a repeat of a key gets the first result and runs nothing', async () => {
  const cache = createIdempotencyCache();
  const { attempt, runs } = counting();
  const first = await cache.run('t1', 'traces', 'k-1', attempt);
  const second = await cache.run('t1', 'traces', 'k-1', attempt);
  assert.equal(runs(), 1);
  assert.deepEqual(second, first);
  await cache.run('t1', 'traces', 'k-2', attempt);
  assert.equal(runs(), 2, 'another key runs');
});

test('a repeat while the first is in flight waits for it instead of running', async () => {
  const cache = createIdempotencyCache();
  let runs = 0;
  let finish!: (r: IngestResult) => void;
  const attempt = () => {
    runs++;
    return new Promise<IngestResult>((resolve) => (finish = resolve));
  };
  const a = cache.run('t1', 'logs', 'k', attempt);
  const b = cache.run('t1', 'logs', 'k', attempt);
  await new Promise((r) => setImmediate(r));
  assert.equal(runs, 1);
  finish({ accepted: 3, rejected: 0, message: '' });
  assert.deepEqual(await a, { accepted: 3, rejected: 0, message: '' });
  assert.deepEqual(await b, { accepted: 3, rejected: 0, message: '' });
});

test('a failed first attempt is forgotten: the repeat runs, also one already waiting', async () => {
  const cache = createIdempotencyCache();
  let runs = 0;
  let fail!: (e: Error) => void;
  const failing = () => {
    runs++;
    return new Promise<IngestResult>((_, reject) => (fail = reject));
  };
  const succeeding = async () => {
    runs++;
    return { accepted: 1, rejected: 0, message: '' };
  };
  const first = cache.run('t1', 'traces', 'k', failing);
  const waiting = cache.run('t1', 'traces', 'k', succeeding);
  fail(new IngestError('unavailable', 'bus down', 5));
  await assert.rejects(first, /bus down/);
  assert.deepEqual(await waiting, { accepted: 1, rejected: 0, message: '' });
  assert.equal(runs, 2);
  assert.deepEqual(await cache.run('t1', 'traces', 'k', succeeding), { accepted: 1, rejected: 0, message: '' });
  assert.equal(runs, 2, 'the success is now what the key answers');
});

test('tenants and signals with the same key are independent', async () => {
  const cache = createIdempotencyCache();
  const { attempt, runs } = counting();
  await cache.run('t1', 'traces', 'k', attempt);
  await cache.run('t2', 'traces', 'k', attempt);
  await cache.run('t1', 'logs', 'k', attempt);
  assert.equal(runs(), 3);
  assert.equal(cache.size, 3);
});

test('entries expire after the ttl', async () => {
  let now = 1_000_000;
  const cache = createIdempotencyCache({ now: () => now });
  const { attempt, runs } = counting();
  await cache.run('t1', 'traces', 'k', attempt);
  now += 10 * 60_000 - 1;
  await cache.run('t1', 'traces', 'k', attempt);
  assert.equal(runs(), 1, 'still known just before ten minutes');
  now += 1;
  await cache.run('t1', 'traces', 'k', attempt);
  assert.equal(runs(), 2, 'a new request after ten minutes');
});

test('at most maxEntries are kept, the oldest dropped first', async () => {
  const cache = createIdempotencyCache({ maxEntries: 2 });
  const { attempt, runs } = counting();
  for (const k of ['a', 'b', 'c']) await cache.run('t1', 'traces', k, attempt);
  assert.equal(cache.size, 2);
  await cache.run('t1', 'traces', 'c', attempt);
  assert.equal(runs(), 3, 'the newest is still known');
  await cache.run('t1', 'traces', 'a', attempt);
  assert.equal(runs(), 4, 'the oldest was dropped');
});

test('a malformed key is refused as invalid, naming the header, before anything runs', async () => {
  const cache = createIdempotencyCache();
  const { attempt, runs } = counting();
  for (const bad of ['', 'has space', 'a/b', 'x'.repeat(129), 'é']) {
    await assert.rejects(cache.run('t1', 'traces', bad, attempt), (err: unknown) => {
      assert.ok(err instanceof IngestError);
      assert.equal(err.kind, 'invalid');
      assert.match(err.message, /Idempotency-Key/);
      return true;
    });
  }
  assert.equal(runs(), 0);
  await cache.run('t1', 'traces', 'x'.repeat(128), attempt);
  await cache.run('t1', 'traces', 'Az09._:-', attempt);
  assert.equal(runs(), 2, 'the longest key and every allowed character pass');
});

test('a key reused for other data is refused, so that data is never dropped as a repeat', async () => {
  const cache = createIdempotencyCache();
  let produced = 0;
  const attempt = async () => ({ accepted: ++produced, rejected: 0, message: '' });
  await cache.run('t1', 'traces', 'k', attempt, '10:aaaa');
  await assert.rejects(cache.run('t1', 'traces', 'k', attempt, '12:bbbb'), (err: unknown) => {
    assert.ok(err instanceof IngestError);
    assert.equal(err.kind, 'invalid');
    assert.match(err.message, /Idempotency-Key k was already used for a different request/);
    return true;
  });
  assert.deepEqual(await cache.run('t1', 'traces', 'k', attempt, '10:aaaa'), { accepted: 1, rejected: 0, message: '' }, 'the same data is still a repeat');
  assert.equal(produced, 1);
});
