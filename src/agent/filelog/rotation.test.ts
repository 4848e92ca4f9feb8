import assert from 'node:assert/strict';
import { appendFileSync, closeSync, copyFileSync, openSync, renameSync, truncateSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { Receiver } from '../types.ts';
import { createFileLogReceiver, type FileLogOptions } from './index.ts';
import { exactlyOnce, FAST, FakeStore, waitFor, withTempDir } from './testing.ts';

const lines = (prefix: string, from: number, to: number): string[] => Array.from({ length: to - from + 1 }, (_, i) => `${prefix}-${from + i}`);
const text = (ls: string[]): string => ls.map((l) => l + '\n').join('');

async function withReceiver(dir: string, options: Partial<FileLogOptions>, fn: (store: FakeStore, r: Receiver) => Promise<void>): Promise<void> {
  const store = new FakeStore();
  const r = createFileLogReceiver({ include: [`${dir}/*.log`], startAt: 'beginning', ...FAST, resume: store.resume, ...options });
  await r.start(store);
  try {
    await fn(store, r);
  } finally {
    await r.stop();
  }
}

function assertExactlyOnce(store: FakeStore, expected: string[]): void {
  const problem = exactlyOnce(store.bodies(), expected);
  assert.equal(problem, undefined, problem);
}

/** Bodies from one path, in the order they were stored. */
function bodiesFrom(store: FakeStore, path: string): string[] {
  return store.records.filter((r) => r.path === path).map((r) => r.body);
}

describe('filelog rotation, truncation, deletion', { timeout: 60_000 }, () => {
  test('rotation by rename: the old file is read to its end (also what the writer adds after the rename), the new one from line 1', async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, 'app.log');
      writeFileSync(path, text(lines('old', 1, 50)));
      await withReceiver(dir, {}, async (store, r) => {
        await waitFor(() => store.records.length >= 50, 'the first 50 lines');
        // The writer keeps its descriptor across the rename, as a process does until it reopens.
        const fd = openSync(path, 'a');
        writeSync(fd, text(lines('old', 51, 100)));
        renameSync(path, join(dir, 'app.log.1'));
        writeSync(fd, text(lines('old', 101, 110)));
        writeFileSync(path, text(lines('new', 1, 20)));
        writeSync(fd, text(lines('old', 111, 115)));
        closeSync(fd);
        const expected = [...lines('old', 1, 115), ...lines('new', 1, 20)];
        await waitFor(() => store.records.length >= expected.length, 'every line of both files');
        assertExactlyOnce(store, expected);
        assert.deepEqual(
          bodiesFrom(store, path).filter((b) => b.startsWith('new')),
          lines('new', 1, 20),
          'the new file is read from its first line, in order',
        );
        assert.deepEqual(store.bodies().filter((b) => b.startsWith('old')), lines('old', 1, 115), 'the old file in order');
        assert.equal(r.stats().rotations, 1);
        // Once it has been still for idleMs and is not matched any more, the old file is let go.
        await waitFor(() => r.stats().filesTracked === 1 && r.stats().filesOpen === 1, 'the rotated file closed');
      });
    });
  });

  test('rotation by rename into a name the globs also match keeps one reader per file', async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, 'app.log');
      writeFileSync(path, text(lines('old', 1, 10)));
      await withReceiver(dir, { include: [`${dir}/*.log*`] }, async (store, r) => {
        await waitFor(() => store.records.length >= 10, 'the first lines');
        appendFileSync(path, text(lines('old', 11, 20)));
        renameSync(path, join(dir, 'app.log.1'));
        writeFileSync(path, text(lines('new', 1, 5)));
        await waitFor(() => store.records.length >= 25, 'both files');
        await new Promise((resolve) => setTimeout(resolve, 200));
        assertExactlyOnce(store, [...lines('old', 1, 20), ...lines('new', 1, 5)]);
        assert.equal(r.stats().filesTracked, 2);
        assert.equal(r.stats().rotations, 1);
      });
    });
  });

  test('copy-truncate: lines in the copy that were not read yet are read from the copy, then the file restarts at 0', async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, 'app.log');
      // Long enough lines that the file has a full fingerprint to recognise the copy by.
      const a = lines('first-generation-line-with-some-padding', 1, 50);
      writeFileSync(path, text(a));
      const logs: string[] = [];
      // A slow poll, so that the append, copy and truncate below (one synchronous block, run
      // while the receiver sleeps) all land between two polls: lines 51-100 exist only in the copy.
      await withReceiver(dir, { pollIntervalMs: 500, log: (l) => logs.push(l) }, async (store, r) => {
        await waitFor(() => store.records.length >= 50, 'the first 50 lines');
        const b = lines('first-generation-line-with-some-padding', 51, 100);
        appendFileSync(path, text(b));
        copyFileSync(path, join(dir, 'app.log.1'));
        truncateSync(path, 0);
        const c = lines('after', 1, 10);
        appendFileSync(path, text(c));
        await waitFor(() => store.records.length >= 110, 'all 110 lines');
        await new Promise((resolve) => setTimeout(resolve, 200));
        assertExactlyOnce(store, [...a, ...b, ...c]);
        assert.deepEqual(store.bodies().filter((l) => l.startsWith('after')), c, 'the truncated file is read again from its start');
        assert.ok(logs.some((l) => l.includes(`reading the rest of ${path} from ${path}.1`)), logs.join('\n'));
        assert.equal(r.stats().truncations, 1);
      });
    });
  });

  test('truncation in place, then rewritten past the old offset before the next poll: detected by the fingerprint', async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, 'app.log');
      const a = lines('a', 1, 5);
      writeFileSync(path, text(a));
      await withReceiver(dir, { pollIntervalMs: 200 }, async (store, r) => {
        await waitFor(() => store.records.length >= 5, 'the first lines');
        // Same inode, content replaced and longer than before, all between two polls.
        const b = lines('rewritten', 1, 20);
        writeFileSync(path, text(b));
        await waitFor(() => store.records.length >= 25, 'the rewritten lines');
        assertExactlyOnce(store, [...a, ...b]);
        assert.equal(r.stats().truncations, 1);
      });
    });
  });

  test('a file deleted while open is read to its end (with its unterminated last line), then closed', async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, 'gone.log');
      writeFileSync(path, text(lines('g', 1, 10)));
      await withReceiver(dir, { idleMs: 60_000 }, async (store, r) => {
        await waitFor(() => store.records.length >= 10, 'the first lines');
        appendFileSync(path, text(lines('g', 11, 20)) + 'g-last');
        unlinkSync(path);
        await waitFor(() => store.records.length >= 21, 'the rest of the deleted file');
        assertExactlyOnce(store, [...lines('g', 1, 20), 'g-last']);
        await waitFor(() => r.stats().filesTracked === 0 && r.stats().filesOpen === 0, 'the file closed and forgotten');
        assert.equal(r.stats().deletions, 1);
      });
    });
  });

  test('more files than maxOpenFiles: idle ones are closed and reopened when they grow', async () => {
    await withTempDir(async (dir) => {
      const names = ['a', 'b', 'c', 'd', 'e'];
      for (const n of names) writeFileSync(join(dir, `${n}.log`), text(lines(n, 1, 3)));
      await withReceiver(dir, { maxOpenFiles: 2 }, async (store, r) => {
        await waitFor(() => store.records.length >= 15, 'every first line');
        for (const n of names) appendFileSync(join(dir, `${n}.log`), text(lines(n, 4, 6)));
        await waitFor(() => store.records.length >= 30, 'every appended line');
        await new Promise((resolve) => setTimeout(resolve, 200));
        assertExactlyOnce(store, names.flatMap((n) => lines(n, 1, 6)));
        assert.ok(r.stats().filesOpen <= 2, `open files ${r.stats().filesOpen}`);
        assert.equal(r.stats().filesTracked, 5);
      });
    });
  });
});
