/**
 * The agent stand-in for crash.test.ts, run as a child process so the test can kill -9 it:
 * a file-log receiver whose "exporter" appends each batch's bodies and checkpoint to one file
 * in a single write, as the disk buffer stores data and checkpoint together.
 * Usage: node testing-child.ts <store file> <glob>
 */
import { appendFileSync, existsSync, readFileSync, truncateSync } from 'node:fs';
import { createFileLogReceiver } from './index.ts';
import { recordsOf } from './testing.ts';

const [storePath, glob] = process.argv.slice(2);
if (!storePath || !glob) throw new Error('usage: testing-child.ts <store file> <glob>');

/** Recovery as the disk buffer does it: a write torn by the kill is cut off. */
function recoverStore(): string | undefined {
  if (!existsSync(storePath)) return undefined;
  const text = readFileSync(storePath, 'utf8');
  const end = text.lastIndexOf('\n') + 1;
  if (end < Buffer.byteLength(text)) truncateSync(storePath, Buffer.byteLength(text.slice(0, end)));
  const lines = text.slice(0, end).split('\n').filter(Boolean);
  return lines.length > 0 ? (JSON.parse(lines[lines.length - 1]) as { state: string }).state : undefined;
}

const saved = recoverStore();
const receiver = createFileLogReceiver({
  include: [glob],
  startAt: 'beginning',
  pollIntervalMs: 10,
  batchMaxRecords: 50,
  batchMaxWaitMs: 10,
  resume: async () => saved,
  log: (line) => process.stderr.write(line + '\n'),
});
await receiver.start({
  async consume(batch) {
    const bodies = recordsOf(batch).map((r) => r.body);
    appendFileSync(storePath, JSON.stringify({ state: batch.checkpoint?.state, bodies }) + '\n');
  },
});
// The receiver's timers do not hold the process open; an agent has servers that do.
setInterval(() => {}, 1 << 30);
process.stdout.write('ready\n');
