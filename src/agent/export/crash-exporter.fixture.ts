/**
 * Child process for the exporter's kill -9 test: feeds numbered logs batches to an exporter
 * from several callers at once, every third one carrying a checkpoint of source `filelog`
 * (state `{"n":<batch>}`), and prints `ack <batch>` once consume() resolved.
 * Usage: node crash-exporter.fixture.ts <dir> <endpoint>
 */
import { createBufferedExporter } from './index.ts';
import { logsBatch } from './testing.ts';

export const CRASH_ITEMS_PER_BATCH = 3;

/** Ids of the items of batch `n`. */
export function crashBatchIds(n: number): string[] {
  return Array.from({ length: CRASH_ITEMS_PER_BATCH }, (_, i) => `crash-${n}-${i}`);
}

async function main(): Promise<void> {
  const [dir, endpoint] = process.argv.slice(2);
  const exporter = await createBufferedExporter({ dir, endpoint, apiKey: 'crash-key', backoffBaseMs: 50, backoffMaxMs: 200 });
  process.stdout.write('ready\n');
  let next = 0;
  const caller = async (): Promise<void> => {
    for (;;) {
      const n = next++;
      const checkpoint = n % 3 === 0 ? { source: 'filelog', state: JSON.stringify({ n }) } : undefined;
      await exporter.consume(logsBatch(crashBatchIds(n), { checkpoint, padBytes: 200 + ((n * 53) % 2000) }));
      process.stdout.write(`ack ${n}\n`);
    }
  };
  await Promise.all(Array.from({ length: 6 }, () => caller()));
}

if (import.meta.main) {
  main().catch((err) => {
    process.stderr.write(`crash-exporter failed: ${(err as Error).stack}\n`);
    process.exit(1);
  });
}
