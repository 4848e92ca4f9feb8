/** The batch consumer's writer hooks: a batch's data goes back to the writer only once it is done with. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createEmbeddedBus, type Bus, type ConsumedRecord } from '../bus/index.ts';
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
