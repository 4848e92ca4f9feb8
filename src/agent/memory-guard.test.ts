import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createMemoryGuard } from './memory-guard.ts';
import type { Telemetry } from './types.ts';

const batch = (items: number): Telemetry => ({ signal: 'logs', request: { resourceLogs: [] }, items });

test('above the high-water mark batches are refused and counted; below it they pass again', async () => {
  let used = 50;
  let clock = 0;
  const taken: Telemetry[] = [];
  const lines: string[] = [];
  const guard = createMemoryGuard({
    next: { consume: async (b) => void taken.push(b) },
    highWater: 0.8,
    probe: () => ({ used, limit: 100 }),
    probeEveryMs: 10,
    now: () => clock,
    log: (l) => lines.push(l),
  });
  await guard.consume(batch(3));
  assert.equal(taken.length, 1);

  used = 81;
  clock += 10;
  await assert.rejects(guard.consume(batch(5)), /short of memory/);
  // Within probeEveryMs the last reading holds, even if the heap fell meanwhile.
  used = 10;
  await assert.rejects(guard.consume(batch(2)), /short of memory/);
  assert.deepEqual(guard.stats(), { refusedBatches: 2, refusedItems: 7, overHighWater: 1 });

  clock += 10;
  await guard.consume(batch(1));
  assert.equal(taken.length, 2);
  assert.equal(guard.stats().overHighWater, 0);
  assert.equal(lines.length, 2, 'one line when it starts refusing, one when it stops');
});

test('a bad high-water mark is refused with the field named', () => {
  assert.throws(() => createMemoryGuard({ next: { consume: async () => {} }, highWater: 1.5 }), /highWater must be between 0 and 1/);
});
