import assert from 'node:assert/strict';
import { appendFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { str } from '../../otlp/index.ts';
import type { Receiver } from '../types.ts';
import { createFileLogReceiver, type FileLogOptions } from './index.ts';
import { FAST, FakeStore, waitFor, withTempDir } from './testing.ts';

async function startReceiver(dir: string, store: FakeStore, options: Partial<FileLogOptions> = {}): Promise<Receiver> {
  const r = createFileLogReceiver({ include: [`${dir}/*.log`], startAt: 'beginning', ...FAST, resume: store.resume, ...options });
  await r.start(store);
  return r;
}

const lines = (prefix: string, from: number, to: number): string[] => Array.from({ length: to - from + 1 }, (_, i) => `${prefix}-${from + i}`);
const text = (ls: string[]): string => ls.map((l) => l + '\n').join('');

describe('filelog receiver', { timeout: 60_000 }, () => {
  test('startAt end skips what was there on a first run; new files are read whole; later runs read unknown files whole', async () => {
    await withTempDir(async (dir) => {
      await writeFile(join(dir, 'a.log'), text(lines('old', 1, 3)));
      const store = new FakeStore();
      const r = await startReceiver(dir, store, { startAt: 'end' });
      await appendFile(join(dir, 'a.log'), text(['a-4']));
      await writeFile(join(dir, 'b.log'), text(lines('b', 1, 2)));
      await writeFile(join(dir, 'b.txt'), text(['not matched']));
      await waitFor(() => store.records.length >= 3, 'a-4, b-1, b-2');
      await r.stop();
      assert.deepEqual(store.bodies().sort(), ['a-4', 'b-1', 'b-2']);
      assert.equal(r.stats().filesTracked, 2);

      // A checkpoint exists now: a file that appeared meanwhile is new, whatever startAt says.
      await writeFile(join(dir, 'c.log'), text(lines('c', 1, 2)));
      const again = await startReceiver(dir, store, { startAt: 'end' });
      await waitFor(() => store.records.length >= 5, 'c-1, c-2');
      await again.stop();
      assert.deepEqual(store.bodies().slice(3), ['c-1', 'c-2']);
    });
  });

  test('startAt beginning reads files already there', async () => {
    await withTempDir(async (dir) => {
      await writeFile(join(dir, 'a.log'), text(lines('a', 1, 3)));
      const store = new FakeStore();
      const r = await startReceiver(dir, store, { startAt: 'beginning' });
      await waitFor(() => store.records.length >= 3, 'three lines');
      await r.stop();
      assert.deepEqual(store.bodies(), ['a-1', 'a-2', 'a-3']);
    });
  });

  test('emits OTLP log records with file attributes, parsed fields and the checkpoint', async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, 'app.log');
      const content = '{"time":"2025-01-15T12:00:00Z","level":"error","msg":"payment failed","order":"o-1"}\n';
      await writeFile(path, content);
      const store = new FakeStore();
      const r = await startReceiver(dir, store, { resourceAttributes: [str('host.name', 'web-1')], now: () => Date.UTC(2025, 0, 15, 12, 0, 5) });
      await waitFor(() => store.records.length === 1, 'one record');
      await r.stop();
      const batch = store.batches[0];
      assert.equal(batch.signal, 'logs');
      assert.equal(batch.items, 1);
      assert.equal(batch.checkpoint?.source, 'filelog');
      const state = JSON.parse(batch.checkpoint!.state) as { files: { path: string; offset: number }[] };
      assert.deepEqual(state.files.map((f) => [f.path, f.offset]), [[path, Buffer.byteLength(content)]]);
      assert.ok(batch.signal === 'logs');
      const rl = batch.request.resourceLogs![0];
      assert.deepEqual(rl.resource?.attributes, [str('host.name', 'web-1')]);
      assert.equal(rl.scopeLogs![0].scope?.name, 'ollystack.agent.filelog');
      const lr = rl.scopeLogs![0].logRecords![0];
      assert.equal(String(lr.observedTimeUnixNano), String(BigInt(Date.UTC(2025, 0, 15, 12, 0, 5)) * 1_000_000n));
      assert.equal(String(lr.timeUnixNano), String(BigInt(Date.UTC(2025, 0, 15, 12, 0, 0)) * 1_000_000n));
      const [rec] = store.records;
      assert.equal(rec.body, 'payment failed');
      assert.equal(rec.severityNumber, 17);
      assert.equal(rec.severityText, 'ERROR');
      assert.deepEqual(rec.attributes, { 'log.file.path': path, 'log.file.name': 'app.log', order: 'o-1' });
    });
  });

  test('joins multiline records by a start pattern and emits the last one after the flush wait', async () => {
    await withTempDir(async (dir) => {
      const trace = [
        '2025-01-15 12:00:00 ERROR com.shop.Api - request failed',
        'java.lang.IllegalStateException: cart is empty',
        '\tat com.shop.Cart.checkout(Cart.java:42)',
        '\tat com.shop.Api.handle(Api.java:7)',
        'Caused by: java.io.IOException: closed',
        '\t... 3 more',
      ];
      await writeFile(join(dir, 'java.log'), text([...trace, '2025-01-15 12:00:01 INFO com.shop.Api - next']));
      const store = new FakeStore();
      const r = await startReceiver(dir, store, { multilineStart: '^\\d{4}-\\d{2}-\\d{2} ' });
      await waitFor(() => store.records.length >= 2, 'both records');
      await r.stop();
      assert.deepEqual(store.bodies(), [trace.join('\n'), '2025-01-15 12:00:01 INFO com.shop.Api - next']);
      assert.equal(store.records[0].severityText, 'ERROR');
      assert.equal(store.records[1].severityText, 'INFO');
    });
  });

  test('a 10 MB line is cut at maxLineBytes and marked truncated; the next line is intact', async () => {
    await withTempDir(async (dir) => {
      const big = Buffer.alloc(10 * 1024 * 1024, 'x');
      await writeFile(join(dir, 'big.log'), Buffer.concat([Buffer.from('before\n'), big, Buffer.from('\nafter\n')]));
      const store = new FakeStore();
      const r = await startReceiver(dir, store);
      await waitFor(() => store.records.length >= 3, 'three records');
      await r.stop();
      assert.equal(store.records.length, 3);
      assert.equal(store.records[0].body, 'before');
      assert.equal(store.records[1].body.length, 64 * 1024, 'cut at the default 64 KiB');
      assert.equal(store.records[1].attributes['log.record.truncated'], true);
      assert.equal(store.records[2].body, 'after');
      assert.equal(store.records[2].attributes['log.record.truncated'], undefined);
      assert.equal(r.stats().truncatedLines, 1);
      assert.equal(r.stats().bytesRead, big.length + 14);
    });
  });

  test('invalid UTF-8 becomes replacement characters and is counted', async () => {
    await withTempDir(async (dir) => {
      await writeFile(join(dir, 'bin.log'), Buffer.concat([Buffer.from('ok\n'), Buffer.from([0x62, 0x61, 0x64, 0xc3, 0x28, 0xff, 0x0a]), Buffer.from('fine\r\n')]));
      const store = new FakeStore();
      const r = await startReceiver(dir, store);
      await waitFor(() => store.records.length >= 3, 'three records');
      await r.stop();
      assert.deepEqual(store.bodies(), ['ok', 'bad\uFFFD(\uFFFD', 'fine']);
      assert.equal(r.stats().decodeErrors, 1);
    });
  });

  test('an unterminated last line waits for its end, and is emitted on its own after idleMs', async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, 'p.log');
      await writeFile(path, 'first\nsec');
      const store = new FakeStore();
      const r = await startReceiver(dir, store, { idleMs: 1500 });
      await waitFor(() => store.records.length >= 1, 'first');
      await appendFile(path, 'ond\nno newline yet');
      await waitFor(() => store.records.length >= 3, 'the partial line after idleMs');
      await r.stop();
      assert.deepEqual(store.bodies(), ['first', 'second', 'no newline yet']);
      const state = JSON.parse(store.checkpoint!) as { files: { offset: number }[] };
      assert.equal(state.files[0].offset, (await stat(path)).size);
    });
  });

  test('batches hold at most batchMaxRecords, in file order', async () => {
    await withTempDir(async (dir) => {
      const all = lines('n', 1, 2500);
      await writeFile(join(dir, 'many.log'), text(all));
      const store = new FakeStore();
      const r = await startReceiver(dir, store, { batchMaxRecords: 1000, batchMaxWaitMs: 60_000 });
      await waitFor(() => store.records.length >= 2000, 'two full batches');
      assert.deepEqual(store.batches.map((b) => b.items), [1000, 1000]);
      await r.stop();
      assert.deepEqual(store.bodies(), all, 'stop sends what was cut');
      assert.equal(r.stats().recordsEmitted, 2500);
    });
  });

  test('bad options are refused with the field named', () => {
    assert.throws(() => createFileLogReceiver({ include: [] }), /filelog: include must be a non-empty array/);
    assert.throws(() => createFileLogReceiver({ include: ['/x/*.log'], multilineStart: '(' }), /filelog: multilineStart is not a valid regular expression/);
    assert.throws(() => createFileLogReceiver({ include: ['/x/*.log'], maxLineBytes: 0 }), /filelog: maxLineBytes must be an integer/);
    assert.throws(() => createFileLogReceiver({ include: ['/x/*.log'], startAt: 'middle' as 'end' }), /filelog: startAt must be 'end' or 'beginning'/);
    assert.throws(() => createFileLogReceiver({ include: ['/x/{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}'] }), /include\[0\]/);
  });

  test('a corrupt stored checkpoint stops start() with a clear error', async () => {
    await withTempDir(async (dir) => {
      const r = createFileLogReceiver({ include: [`${dir}/*.log`], resume: async () => '{"v":1,"files":[{}]}' });
      await assert.rejects(r.start(new FakeStore()), /filelog checkpoint field files\[0\]\.path must be a string/);
    });
  });
});
