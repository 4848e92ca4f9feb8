/** The batch consumer's writer hooks: a batch's data goes back to the writer only once it is done with. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createEmbeddedBus, keyForPartition, type Bus, type ConsumedRecord, type Consumer } from '../bus/index.ts';
import { createBatchConsumer, type BatchWriter } from './batch-consumer.ts';
import type { Store } from './store.ts';
import { waitFor } from './test-records.ts';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ollystack-batch-consumer-'));
let bus: Bus;

before(async () => {
  bus = await createEmbeddedBus({ dir: path.join(root, 'bus') });
  await bus.ensureTopics([{ name: 'events', partitions: 1, retentionMs: 86_400_000 }]);
});
after(async () => {
  await bus.close();
  fs.rmSync(root, { recursive: true, force: true });
});

interface Data {
  id: number;
  offsets: number[];
}

test('release gets each batch once, after the write that succeeded, never after a failed attempt', async () => {
  await bus.produce(
    'events',
    Array.from({ length: 6 }, (_, i) => ({ key: null, value: Buffer.from(`e${i}`), headers: {} })),
  );
  const log: string[] = [];
  let opened = 0;
  let attempts = 0;
  const released: Data[] = [];
  const writer: BatchWriter<Data> = {
    open: () => ({ id: ++opened, offsets: [] }),
    add(data: Data, rec: ConsumedRecord): number {
      data.offsets.push(rec.offset);
      return 1;
    },
    async write(data: Data) {
      // The first attempt fails after the write landed (a lost acknowledgement): the retry needs the data intact.
      if (++attempts === 1) {
        log.push(`fail ${data.id}`);
        throw new Error('simulated lost acknowledgement');
      }
      log.push(`write ${data.id} [${data.offsets.join(',')}]`);
    },
    release(data: Data) {
      log.push(`release ${data.id}`);
      released.push(data);
    },
  };
  const consumer = createBatchConsumer({
    bus,
    store: {} as Store,
    ledger: false,
    name: 'test consumer',
    groupId: 'g-release',
    topics: ['events'],
    batchMaxUnits: 2,
    batchMaxMs: 20,
    pollMaxRecords: 6,
    retryBaseMs: 5,
    writer,
  });
  consumer.start();
  try {
    await waitFor(async () => released.length === 3, 10_000, 'three batches released');
    await waitFor(async () => (await bus.lag('g-release', 'events'))[0].lag === 0, 10_000, 'the offsets committed');
  } finally {
    await consumer.stop();
  }
  assert.deepEqual(log, ['fail 1', 'write 1 [0,1]', 'release 1', 'write 2 [2,3]', 'release 2', 'write 3 [4,5]', 'release 3']);
  assert.deepEqual(
    released.map((d) => d.id),
    [1, 2, 3],
  );
});

test('a partition revoked and assigned again while a poll is being added loses none of its records', async () => {
  // One poll holds records of partition 1, then the first record of partition 2, then more of
  // partition 1. Starting partition 2 awaits its committed offset; meanwhile a second member
  // joins the group (partition 1 goes to it) and leaves (partition 1 comes back, read again from
  // its committed offset). The poll's records of partition 1 after that await are stale.
  await bus.ensureTopics([{ name: 'moves', partitions: 3, retentionMs: 86_400_000 }]);
  const p1 = keyForPartition(1, 3);
  const p2 = keyForPartition(2, 3);
  await bus.produce('moves', [
    ...Array.from({ length: 6 }, (_, i) => ({ key: p1, value: Buffer.from(`a${i}`), headers: {} })),
    { key: p2, value: Buffer.from('b0'), headers: {} },
  ]);
  const written = new Map<number, number[]>();
  const writer: BatchWriter<Data> = {
    open: () => ({ id: 0, offsets: [] }),
    add(data: Data, rec: ConsumedRecord): number {
      data.offsets.push(rec.partition * 1000 + rec.offset);
      return 1;
    },
    async write(data: Data) {
      for (const o of data.offsets) {
        const list = written.get(Math.floor(o / 1000)) ?? [];
        list.push(o % 1000);
        written.set(Math.floor(o / 1000), list);
      }
    },
  };
  const polls: string[][] = [];
  let moved = false;
  // The real consumer, watched: its polls are recorded and partition 2's first start moves partition 1.
  const watched: Bus = Object.create(bus);
  watched.consumer = (options) => {
    const c = bus.consumer(options);
    const spy: Consumer = Object.create(c);
    spy.poll = async (o) => {
      const records = await c.poll(o);
      if (records.length > 0) polls.push(records.map((r) => `${r.partition}:${r.offset}`));
      return records;
    };
    spy.committed = async (tp) => {
      if (tp.partition === 2 && !moved) {
        moved = true;
        const other = bus.consumer({ groupId: options.groupId, topics: options.topics });
        await new Promise((resolve) => setTimeout(resolve, 10));
        assert.deepEqual(c.assignment().map((a) => a.partition).sort(), [0, 2], 'partition 1 went to the second member');
        await other.close();
        assert.deepEqual(c.assignment().map((a) => a.partition).sort(), [0, 1, 2], 'partition 1 came back');
      }
      return c.committed(tp);
    };
    return spy;
  };
  const consumer = createBatchConsumer({
    bus: watched,
    store: {} as Store,
    ledger: false,
    name: 'test consumer',
    groupId: 'g-moves',
    topics: ['moves'],
    batchMaxUnits: 100,
    batchMaxMs: 20,
    pollMaxRecords: 7,
    retryBaseMs: 5,
    writer,
  });
  consumer.start();
  try {
    await waitFor(async () => (await bus.lag('g-moves', 'moves')).every((l) => l.lag === 0), 10_000, 'the offsets committed');
  } finally {
    await consumer.stop();
  }
  // The scenario happened as described: partition 1's records on both sides of partition 2's first.
  assert.ok(moved, 'partition 2 was started');
  assert.deepEqual(polls[0], ['1:0', '1:1', '1:2', '2:0', '1:3', '1:4', '1:5']);
  assert.deepEqual(
    [...new Set(written.get(1))].sort((a, b) => a - b),
    [0, 1, 2, 3, 4, 5],
    'every record of partition 1 written',
  );
  assert.deepEqual(written.get(2), [0]);
});
