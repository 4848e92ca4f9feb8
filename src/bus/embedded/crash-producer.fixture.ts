/**
 * Child process for the kill -9 durability test: produces numbered batches with several
 * produce calls in flight (so group commits overlap) and prints `ack <batch>` on stdout
 * (`ack <batch> <worker>`) once each produce has resolved.
 * Usage: node crash-producer.fixture.ts <dir> <topic>
 */
import { createEmbeddedBus } from '../index.ts';

export const CRASH_RECORDS_PER_BATCH = 5;
export const CRASH_KEYS = 7;
export const CRASH_PARTITIONS = 3;

async function main(): Promise<void> {
  const [dir, topic] = process.argv.slice(2);
  const bus = await createEmbeddedBus({ dir, segmentBytes: 256 * 1024 });
  await bus.ensureTopics([{ name: topic, partitions: CRASH_PARTITIONS, retentionMs: 24 * 60 * 60 * 1000 }]);
  process.stdout.write('ready\n');
  let next = 0;
  const worker = async (id: number): Promise<void> => {
    for (;;) {
      const batch = next++;
      const records = Array.from({ length: CRASH_RECORDS_PER_BATCH }, (_, i) => ({
        key: Buffer.from(`key-${(batch + i) % CRASH_KEYS}`),
        value: Buffer.from(JSON.stringify({ batch, i, worker: id, pad: 'x'.repeat(500 + ((batch * 37) % 3000)) })),
      }));
      await bus.produce(topic, records);
      process.stdout.write(`ack ${batch} ${id}\n`);
    }
  };
  await Promise.all(Array.from({ length: 8 }, (_, id) => worker(id)));
}

if (import.meta.main) {
  main().catch((err) => {
    process.stderr.write(`crash-producer failed: ${(err as Error).stack}\n`);
    process.exit(1);
  });
}
