import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CheckpointTracker } from './checkpoints.ts';
import { OutputQueue } from './output-queue.ts';
import { HeldSpan } from './held-span.ts';
import { OriginTable } from './origins.ts';
import { SlabStore } from './slabs.ts';

const origins = new OriginTable();
const origin = origins.scope(origins.resource(undefined, undefined), undefined, undefined);
const store = new SlabStore();
/** A held span whose bytes are just its name, to tell them apart. */
function held(name: string): HeldSpan {
  const h = new HeldSpan(origin);
  store.put(h, Buffer.from(name));
  return h;
}
const nameOf = (h: HeldSpan): string => h.slab.toString('utf8', h.offset, h.offset + h.length);

test('a checkpoint is ready once its traces are decided, and only after the spans queued before it', () => {
  const tracker = new CheckpointTracker();
  tracker.hold({ source: 'a', state: '1' }, 5);
  tracker.release(4, 10);
  assert.equal(tracker.takeReady(100), undefined);
  tracker.release(5, 10);
  assert.equal(tracker.takeReady(9), undefined);
  assert.deepEqual(tracker.takeReady(10)?.checkpoint, { source: 'a', state: '1' });
  assert.equal(tracker.held, 0);
});

test('a newer checkpoint of a source replaces an older one and waits for the later of both', () => {
  const tracker = new CheckpointTracker();
  tracker.hold({ source: 'a', state: '1' }, 7);
  tracker.hold({ source: 'a', state: '2' }, 3);
  tracker.hold({ source: 'b', state: 'x' }, -1);
  assert.equal(tracker.held, 2);
  tracker.release(5, 0);
  assert.deepEqual(tracker.takeReady(0)?.checkpoint, { source: 'b', state: 'x' });
  assert.equal(tracker.takeReady(0), undefined);
  tracker.release(7, 0);
  const ready = tracker.takeReady(0);
  assert.deepEqual(ready?.checkpoint, { source: 'a', state: '2' });
  // Put back after a failed send, it is there again; unless a newer one arrived meanwhile.
  tracker.putBack(ready!);
  assert.equal(tracker.held, 1);
  const again = tracker.takeReady(0)!;
  tracker.hold({ source: 'a', state: '3' }, -1);
  tracker.release(7, 0);
  tracker.putBack(again);
  assert.deepEqual(tracker.takeReady(0)?.checkpoint, { source: 'a', state: '3' });
});

test('the output queue keeps order through a failed send and counts handled positions', () => {
  const queue = new OutputQueue();
  for (const name of ['a', 'b', 'c', 'd']) queue.push(held(name));
  assert.equal(queue.endPosition, 4);
  const taken = queue.take(3);
  assert.deepEqual(
    taken.map(nameOf),
    ['a', 'b', 'c'],
  );
  assert.equal(queue.startPosition, 3);
  queue.putBack(taken);
  assert.equal(queue.startPosition, 0);
  assert.equal(queue.dropOldest(2), 2);
  assert.deepEqual(
    queue.take(10).map(nameOf),
    ['c', 'd'],
  );
  assert.equal(queue.length, 0);
  assert.equal(queue.startPosition, 4);
  assert.equal(queue.dropOldest(-1), 0);
});
