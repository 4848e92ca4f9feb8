import assert from 'node:assert/strict';
import { appendFileSync, copyFileSync, renameSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { Consumer, Receiver } from '../types.ts';
import { createFileLogReceiver, type FileLogOptions } from './index.ts';
import { crashingConsumer, exactlyOnce, FAST, FakeStore, numbered, startWriter, waitFor, withTempDir } from './testing.ts';

const lines = numbered;
const text = (ls: string[]): string => ls.map((l) => l + '\n').join('');

async function startReceiver(dir: string, store: FakeStore, next: Consumer = store, options: Partial<FileLogOptions> = {}): Promise<Receiver> {
  const r = createFileLogReceiver({ include: [`${dir}/*.log`], startAt: 'beginning', ...FAST, batchMaxRecords: 50, resume: store.resume, ...options });
  await r.start(next);
  return r;
}

function assertExactlyOnce(store: FakeStore, expected: string[]): void {
  const problem = exactlyOnce(store.bodies(), expected);
  assert.equal(problem, undefined, problem);
}

describe('filelog restart from the stored checkpoint', { timeout: 120_000 }, () => {
  test('stop mid-stream, restart: every line exactly once across the two runs', async () => {
    await withTempDir(async (dir) => {
      const store = new FakeStore();
      const writer = startWriter(dir, ['a', 'b'], 7);
      const first = await startReceiver(dir, store);
      await waitFor(() => store.records.length >= 300, '300 records in the first run');
      await first.stop();
      const atStop = store.records.length;
      await new Promise((resolve) => setTimeout(resolve, 100));
      const second = await startReceiver(dir, store);
      await waitFor(() => store.records.length >= atStop + 300, '300 more records in the second run');
      const written = await writer.stop();
      await waitFor(() => store.records.length >= written.length, 'every written line');
      await new Promise((resolve) => setTimeout(resolve, 200));
      await second.stop();
      assertExactlyOnce(store, written);
      for (const f of ['a', 'b']) {
        const mine = store.bodies().filter((b) => b.startsWith(`${f}-`));
        assert.deepEqual(mine, written.filter((w) => w.startsWith(`${f}-`)), `${f}.log in order`);
      }
    });
  });

  test('crash (the receiver is abandoned mid-consume, never stopped), restart from the last durable checkpoint: exactly once', async () => {
    await withTempDir(async (dir) => {
      const store = new FakeStore();
      const writer = startWriter(dir, ['a', 'b', 'c'], 5);
      const dead = crashingConsumer(store, 6);
      const first = await startReceiver(dir, store, dead);
      await waitFor(() => dead.hung(), 'the crash');
      assert.equal(store.batches.length, 6);
      // The "new process": same files, the store's last checkpoint; the dead one never returns.
      const second = await startReceiver(dir, store);
      await waitFor(() => store.batches.length >= 12, 'the second run sending');
      const written = await writer.stop();
      await waitFor(() => store.records.length >= written.length, 'every written line');
      await new Promise((resolve) => setTimeout(resolve, 200));
      await second.stop();
      assertExactlyOnce(store, written);
      // Clean up the dead receiver: its hung batch fails while it is stopping, so it sends nothing more.
      const stopping = first.stop();
      dead.release();
      await stopping;
      assertExactlyOnce(store, written);
    });
  });

  test("a crash before the very first batch (startAt 'end'): lines written meanwhile are read after the restart", async () => {
    await withTempDir(async (dir) => {
      const file = join(dir, 'app.log');
      writeFileSync(file, text(lines('old', 1, 20)));
      const store = new FakeStore();
      // The first run stores its start positions, then dies at its first batch of lines.
      const dead = crashingConsumer(store, 0);
      const first = await startReceiver(dir, store, dead, { startAt: 'end' });
      await waitFor(() => store.checkpoint !== undefined, 'the start positions stored');
      assert.equal(store.records.length, 0);
      appendFileSync(file, text(lines('new', 1, 30)));
      await waitFor(() => dead.hung(), 'the crash');
      // Without stored start positions, the restart would begin at the new end and skip 'new'.
      const second = await startReceiver(dir, store, store, { startAt: 'end' });
      await waitFor(() => store.records.length >= 30, 'the lines written after the first start');
      await second.stop();
      dead.release();
      await first.stop();
      assertExactlyOnce(store, lines('new', 1, 30));
    });
  });

  test('consume() rejecting, then taking batches again: nothing lost, nothing repeated', async () => {
    await withTempDir(async (dir) => {
      const store = new FakeStore();
      store.rejectNext = 3;
      const logs: string[] = [];
      const r = await startReceiver(dir, store, store, { log: (l) => logs.push(l) });
      writeFileSync(join(dir, 'a.log'), text(lines('a', 1, 200)));
      await waitFor(() => store.records.length >= 200, 'all 200 lines');
      store.rejectNext = 2;
      appendFileSync(join(dir, 'a.log'), text(lines('a', 201, 300)));
      await waitFor(() => store.records.length >= 300, 'all 300 lines');
      await new Promise((resolve) => setTimeout(resolve, 200));
      await r.stop();
      assertExactlyOnce(store, lines('a', 1, 300));
      assert.deepEqual(store.bodies(), lines('a', 1, 300), 'in order');
      assert.equal(store.rejected, 5);
      assert.equal(r.stats().consumeFailures, 5);
      assert.ok(logs.some((l) => /refused a batch of \d+ records \(disk buffer full\); retrying/.test(l)), logs.join('\n'));
    });
  });

  test('a multiline record and a partial line held at stop are read again whole after the restart', async () => {
    await withTempDir(async (dir) => {
      const store = new FakeStore();
      const path = join(dir, 'java.log');
      const options = { multilineStart: '^START', multilineFlushMs: 60_000, idleMs: 60_000 };
      writeFileSync(path, 'START one\n  frame 1\nSTART two\n  frame 2\n  fra');
      const first = await startReceiver(dir, store, store, options);
      await waitFor(() => store.records.length >= 1, 'the first record');
      await first.stop();
      appendFileSync(path, 'me 3\nSTART three\n');
      const second = await startReceiver(dir, store, store, options);
      await waitFor(() => store.records.length >= 2, 'the second record');
      await second.stop();
      assert.deepEqual(store.bodies(), ['START one\n  frame 1', 'START two\n  frame 2\n  frame 3']);
    });
  });

  test('rotated by rename while the agent was down: the rest of the old file is read from its new name', async () => {
    await withTempDir(async (dir) => {
      const store = new FakeStore();
      const path = join(dir, 'app.log');
      writeFileSync(path, text(lines('old', 1, 20)));
      const first = await startReceiver(dir, store);
      await waitFor(() => store.records.length >= 20, 'the first lines');
      await first.stop();
      appendFileSync(path, text(lines('old', 21, 30)));
      renameSync(path, `${path}.1`);
      writeFileSync(path, text(lines('new', 1, 5)));
      const second = await startReceiver(dir, store);
      await waitFor(() => store.records.length >= 35, 'the rest of both files');
      await new Promise((resolve) => setTimeout(resolve, 200));
      await second.stop();
      assertExactlyOnce(store, [...lines('old', 1, 30), ...lines('new', 1, 5)]);
    });
  });

  test('copy-truncated while the agent was down: the copy gives the unread tail, the file restarts at 0', async () => {
    await withTempDir(async (dir) => {
      const store = new FakeStore();
      const path = join(dir, 'app.log');
      const a = lines('a-line-long-enough-for-a-fingerprint', 1, 20);
      writeFileSync(path, text(a));
      const first = await startReceiver(dir, store);
      await waitFor(() => store.records.length >= 20, 'the first lines');
      await first.stop();
      const b = lines('a-line-long-enough-for-a-fingerprint', 21, 30);
      appendFileSync(path, text(b));
      copyFileSync(path, `${path}.1`);
      truncateSync(path, 0);
      const c = lines('after', 1, 5);
      appendFileSync(path, text(c));
      const second = await startReceiver(dir, store);
      await waitFor(() => store.records.length >= 35, 'the rest');
      await new Promise((resolve) => setTimeout(resolve, 200));
      await second.stop();
      assertExactlyOnce(store, [...a, ...b, ...c]);
    });
  });

  test('the same inode with other content after a restart (reuse or rewrite) is read from the start', async () => {
    await withTempDir(async (dir) => {
      const store = new FakeStore();
      const path = join(dir, 'app.log');
      writeFileSync(path, text(lines('x', 1, 5)));
      const first = await startReceiver(dir, store);
      await waitFor(() => store.records.length >= 5, 'the first lines');
      await first.stop();
      // Rewritten in place (same inode), longer than the stored offset: only the fingerprint tells.
      writeFileSync(path, text(lines('y', 1, 10)));
      const second = await startReceiver(dir, store);
      await waitFor(() => store.records.length >= 15, 'the new content');
      await new Promise((resolve) => setTimeout(resolve, 100));
      await second.stop();
      assertExactlyOnce(store, [...lines('x', 1, 5), ...lines('y', 1, 10)]);
    });
  });
});
