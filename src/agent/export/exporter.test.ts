import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { decodeRequest, encodeRequest, opentelemetry } from '../../otlp/index.ts';
import { createBufferedExporter } from './index.ts';
import type { BufferedExporter, ExporterOptions } from './index.ts';
import { FakeGateway, OK, logsBatch, tracesBatch, waitFor } from './testing.ts';
import { CRASH_ITEMS_PER_BATCH, crashBatchIds } from './crash-exporter.fixture.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const TIMEOUT = { timeout: 60_000 };
const MIB = 1024 * 1024;

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'agent-export-'));
}

function folderBytes(dir: string): number {
  let total = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    total += entry.isDirectory() ? folderBytes(full) : fs.statSync(full).size;
  }
  return total;
}

/** Runs `fn` with a fake gateway (started unless `down`), a temp dir and a log capture. */
async function withSetup(fn: (ctx: { gateway: FakeGateway; dir: string; logs: string[]; open: (extra?: Partial<ExporterOptions>) => Promise<BufferedExporter> }) => Promise<void>, down = false): Promise<void> {
  const gateway = new FakeGateway();
  await gateway.start();
  if (down) await gateway.stop();
  const dir = tempDir();
  const logs: string[] = [];
  const opened: BufferedExporter[] = [];
  const open = async (extra: Partial<ExporterOptions> = {}) => {
    const exporter = await createBufferedExporter({
      dir,
      endpoint: gateway.url,
      apiKey: 'test-key',
      backoffBaseMs: 20,
      backoffMaxMs: 200,
      log: (line) => logs.push(line),
      ...extra,
    });
    opened.push(exporter);
    return exporter;
  };
  try {
    await fn({ gateway, dir, logs, open });
  } finally {
    for (const e of opened) await e.stop();
    await gateway.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const ids = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

test('batches are posted as gzip protobuf with the bearer key and committed once delivered', TIMEOUT, async () => {
  await withSetup(async ({ gateway, open }) => {
    const exporter = await open();
    assert.equal(exporter.name, 'exporter');
    await exporter.consume(logsBatch(['a', 'b']));
    await exporter.consume(tracesBatch(['span-1']));
    await waitFor('both delivered', () => gateway.received.length >= 2);
    const [logs, traces] = gateway.received;
    assert.equal(logs.signal, 'logs');
    assert.deepEqual(logs.ids, ['a', 'b']);
    assert.equal(logs.authorization, 'Bearer test-key');
    assert.equal(logs.contentType, 'application/x-protobuf');
    assert.equal(logs.contentEncoding, 'gzip');
    assert.equal(traces.signal, 'traces');
    assert.deepEqual(traces.ids, ['span-1']);
    await waitFor('nothing left in the buffer', () => exporter.stats().bufferedBatches === 0);
    const s = exporter.stats();
    assert.equal(s.sentBatches, 2);
    assert.equal(s.sentItems, 3);
    assert.equal(s.sentLogRecords, 2);
    assert.equal(s.sentSpans, 1);
    assert.equal(s.sentDataPoints, 0);
    assert.equal(s.retries, 0);
    assert.equal(s.gatewayUp, 1);
    assert.ok(s.bufferedBytes > 0, 'the buffer is on disk');
  });
});

test('a batch that only carries a checkpoint is stored and committed, never posted', TIMEOUT, async () => {
  await withSetup(async ({ gateway, open }) => {
    const exporter = await open();
    await exporter.consume(logsBatch([], { checkpoint: { source: 'filelog', state: '{"at":1}' } }));
    await waitFor('the empty batch committed', () => exporter.stats().bufferedBatches === 0);
    await exporter.consume(logsBatch(['a']));
    await waitFor('the next batch delivered', () => gateway.received.length >= 1);
    assert.equal(gateway.received.length, 1);
    assert.deepEqual(gateway.received[0].ids, ['a']);
    assert.equal(await exporter.lastCheckpoint('filelog'), '{"at":1}');
  });
});

test('gateway down, then back: everything arrives exactly once, oldest first', TIMEOUT, async () => {
  await withSetup(async ({ gateway, open, logs }) => {
    const exporter = await open();
    const batches = 40;
    for (let i = 0; i < batches; i++) await exporter.consume(logsBatch(ids(`down-${i}`, 2)));
    await waitFor('a failed attempt', () => exporter.stats().retries > 0);
    const down = exporter.stats();
    assert.equal(down.gatewayUp, 0);
    assert.ok(down.lastErrorAtMs > 0);
    assert.match(exporter.lastError() ?? '', /ECONNREFUSED|failed/);
    assert.ok(logs.some((l) => /retrying/.test(l)), 'the outage is logged');
    await waitFor('all counted as buffered', () => exporter.stats().bufferedBatches === batches);
    await gateway.start();
    const expected = Array.from({ length: batches }, (_, i) => ids(`down-${i}`, 2)).flat();
    await waitFor('all delivered', () => gateway.deliveredIds().length >= expected.length);
    await waitFor('buffer drained', () => exporter.stats().bufferedBatches === 0);
    assert.deepEqual(gateway.deliveredIds(), expected, 'each item once, in the order consumed');
    assert.equal(exporter.stats().gatewayUp, 1);
    assert.equal(exporter.stats().sentBatches, batches);
  }, true);
});

test('Retry-After is honoured, 429 and 503 are retried, a hung request times out and is retried', TIMEOUT, async () => {
  await withSetup(async ({ gateway, open }) => {
    gateway.answer = (_signal, attempt) => (attempt === 1 ? { status: 503, headers: { 'retry-after': '1' }, body: 'busy' } : attempt === 2 ? { status: 429 } : attempt === 3 ? 'hang' : OK);
    const exporter = await open({ backoffBaseMs: 10, backoffMaxMs: 5_000, timeoutMs: 500 });
    await exporter.consume(logsBatch(['r']));
    await waitFor('delivered', () => gateway.deliveredIds().length === 1);
    const [first, second] = gateway.attempts;
    // Backoff alone would retry within 10 ms; the gateway asked for 1 s (margin for timer granularity).
    assert.ok(second.atMs - first.atMs >= 950, `retried ${second.atMs - first.atMs} ms after a Retry-After of 1 s`);
    assert.equal(gateway.attempts.length, 4);
    assert.deepEqual(gateway.deliveredIds(), ['r']);
    assert.equal(exporter.stats().retries, 3);
  });
});

test('a refused request (400) is dropped and counted with the server message; partial success counts rejected items', TIMEOUT, async () => {
  await withSetup(async ({ gateway, open, logs }) => {
    const partial = opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse.encode({
      partialSuccess: { rejectedLogRecords: 1, errorMessage: 'one too old' },
    }).finish();
    gateway.answer = (_signal, attempt) =>
      attempt === 1
        ? { status: 400, headers: { 'content-type': 'text/plain' }, body: 'bad attribute x' }
        : attempt === 2
          ? { status: 200, headers: { 'content-type': 'application/x-protobuf' }, body: partial }
          : OK;
    const exporter = await open();
    await exporter.consume(logsBatch(['bad-1', 'bad-2']));
    await waitFor('refused', () => exporter.stats().rejectedItems === 2);
    await exporter.consume(logsBatch(['p-1', 'p-2']));
    await exporter.consume(logsBatch(['fine']));
    await waitFor('all answered', () => gateway.received.length === 3);
    await waitFor('buffer drained', () => exporter.stats().bufferedBatches === 0);
    const s = exporter.stats();
    assert.equal(s.rejectedItems, 3, '2 refused + 1 rejected in a partial success');
    assert.equal(s.retries, 0, 'a 400 is not retried');
    assert.equal(s.sentItems, 2);
    assert.ok(logs.some((l) => /HTTP 400/.test(l) && /bad attribute x/.test(l)), 'the server message is logged');
    assert.ok(logs.some((l) => /one too old/.test(l)));
    assert.deepEqual(gateway.received.map((r) => r.status), [400, 200, 200], 'the refused batch is not sent again');
  });
});

test('the cap: while the gateway is down the oldest data is dropped and counted, the disk stays bounded, the newest arrives', TIMEOUT, async () => {
  await withSetup(async ({ gateway, dir, open, logs }) => {
    const capBytes = 4 * MIB;
    const segmentBytes = MIB; // capBytes / 16, raised to the 1 MiB floor
    const exporter = await open({ capBytes, maxRequestBytes: 256 * 1024 });
    const batches = 120;
    const itemsPerBatch = 2;
    for (let i = 0; i < batches; i++) {
      await exporter.consume(logsBatch(ids(`cap-${String(i).padStart(3, '0')}`, itemsPerBatch), { padBytes: 50_000 }));
      assert.ok(folderBytes(dir) <= capBytes + segmentBytes + 200_000, `buffer at ${folderBytes(dir)} bytes after batch ${i}`);
    }
    await waitFor('stats see the bounded buffer', () => exporter.stats().bufferedBytes > 0 && exporter.stats().bufferedBytes <= capBytes + segmentBytes + 200_000);
    await gateway.start();
    const last = ids(`cap-${batches - 1}`, itemsPerBatch).at(-1)!;
    await waitFor('the newest batch delivered', () => gateway.deliveredIds().includes(last));
    await waitFor('buffer drained', () => exporter.stats().bufferedBatches === 0);
    const delivered = gateway.deliveredIds();
    assert.equal(new Set(delivered).size, delivered.length, 'nothing delivered twice');
    assert.deepEqual(delivered, delivered.toSorted(), 'oldest first');
    const s = exporter.stats();
    assert.ok(s.droppedBatches > 0, 'some batches were dropped');
    assert.equal(s.sentBatches + s.droppedBatches, batches, 'every batch is either sent or counted as dropped');
    assert.equal(s.droppedItems, s.droppedBatches * itemsPerBatch, 'dropped items are counted from the records around the hole');
    assert.equal(delivered.length, s.sentItems);
    assert.equal(logs.filter((l) => /disk buffer full/.test(l)).length, 1, 'one warning for the episode');
  }, true);
});

test('restart: what was not sent is sent after reopening, what was committed is not sent again', TIMEOUT, async () => {
  await withSetup(async ({ gateway, open }) => {
    let exporter = await open();
    for (let i = 0; i < 5; i++) await exporter.consume(logsBatch([`early-${i}`]));
    await waitFor('early ones delivered', () => gateway.deliveredIds().length === 5);
    await waitFor('and committed', () => exporter.stats().bufferedBatches === 0);
    await gateway.stop();
    for (let i = 0; i < 5; i++) await exporter.consume(logsBatch([`late-${i}`]));
    await exporter.stop();
    await assert.rejects(exporter.consume(logsBatch(['after-stop'])), /stopped/);

    await gateway.start();
    exporter = await open();
    await waitFor('late ones delivered', () => gateway.deliveredIds().length >= 10);
    await waitFor('buffer drained', () => exporter.stats().bufferedBatches === 0);
    assert.deepEqual(gateway.deliveredIds(), [...ids('early', 5), ...ids('late', 5)]);
  });
});

test('packing: consecutive batches of one signal go out as one request equal to their concatenation, up to maxRequestBytes', TIMEOUT, async () => {
  await withSetup(async ({ gateway, open }) => {
    const logsA = [0, 1, 2, 3, 4].map((i) => logsBatch(ids(`a${i}`, 2)));
    const traces = [0, 1].map((i) => tracesBatch(ids(`t${i}`, 1)));
    const logsB = [0, 1, 2].map((i) => logsBatch(ids(`b${i}`, 1)));
    // Written while the gateway is down and sent after a reopen, so the sender sees them all at once.
    let exporter = await open();
    for (const b of [...logsA, ...traces, ...logsB]) await exporter.consume(b);
    await exporter.stop();
    await gateway.start();
    exporter = await open();
    await waitFor('all delivered', () => gateway.deliveredIds().length === 15);
    assert.deepEqual(gateway.received.map((r) => [r.signal, r.ids.length]), [['logs', 10], ['traces', 2], ['logs', 3]]);
    const concatenated = Buffer.concat(logsA.map((b) => encodeRequest('logs', b.request as never)));
    assert.deepEqual(gateway.received[0].request, decodeRequest('logs', concatenated));
    assert.equal((gateway.received[0].request as { resourceLogs: unknown[] }).resourceLogs.length, 5);
    assert.equal(exporter.stats().sentRequests, 3);
    assert.equal(exporter.stats().sentBatches, 10);
    await exporter.stop();

    // maxRequestBytes: two of these batches fit a request, a third does not; a batch is never split.
    await gateway.stop();
    const size = encodeRequest('logs', logsBatch(ids('s0', 1)).request as never).length;
    exporter = await open({ maxRequestBytes: size * 2 + 1 });
    for (let i = 0; i < 5; i++) await exporter.consume(logsBatch(ids(`s${i}`, 1)));
    await exporter.consume(logsBatch(ids('big', 1), { padBytes: size * 4 }));
    await exporter.stop();
    await gateway.start();
    exporter = await open({ maxRequestBytes: size * 2 + 1 });
    await waitFor('all delivered', () => gateway.deliveredIds().length === 21);
    assert.deepEqual(gateway.received.slice(3).map((r) => r.ids), [['s0-0', 's1-0'], ['s2-0', 's3-0'], ['s4-0'], ['big-0']]);
  }, true);
});

test('a 413 for a packed request is resent in smaller requests', TIMEOUT, async () => {
  await withSetup(async ({ gateway, open }) => {
    let exporter = await open();
    for (let i = 0; i < 4; i++) await exporter.consume(logsBatch([`x${i}`]));
    await exporter.stop();
    await gateway.start();
    gateway.answer = (_signal, attempt) => (attempt === 1 ? { status: 413, body: 'too large' } : OK);
    exporter = await open();
    await waitFor('all delivered', () => gateway.deliveredIds().length === 4);
    assert.deepEqual(gateway.received.map((r) => r.ids.length), [4, 2, 2]);
    assert.deepEqual(gateway.deliveredIds(), ['x0', 'x1', 'x2', 'x3']);
    assert.equal(exporter.stats().rejectedItems, 0);
  }, true);
});

test('lastCheckpoint: the newest per source, also when the process died between the record and checkpoints.json', TIMEOUT, async () => {
  await withSetup(async ({ dir, open }) => {
    let exporter = await open();
    assert.equal(await exporter.lastCheckpoint('filelog'), undefined);
    await exporter.consume(logsBatch(['c1'], { checkpoint: { source: 'filelog', state: 'pos-1' } }));
    await exporter.consume(logsBatch(['j1'], { checkpoint: { source: 'journald', state: 'cursor-1' } }));
    await exporter.consume(logsBatch(['plain']));
    await exporter.consume(logsBatch(['c2'], { checkpoint: { source: 'filelog', state: 'pos-2' } }));
    const file = path.join(dir, 'checkpoints.json');
    const beforeLast = fs.readFileSync(file);
    await exporter.consume(logsBatch(['c3'], { checkpoint: { source: 'filelog', state: 'pos-3' } }));
    assert.equal(await exporter.lastCheckpoint('filelog'), 'pos-3');
    assert.equal(await exporter.lastCheckpoint('journald'), 'cursor-1');
    await exporter.stop();

    // The crash window: the record with pos-3 is durable, the file still says pos-2.
    fs.writeFileSync(file, beforeLast);
    exporter = await open();
    assert.equal(await exporter.lastCheckpoint('filelog'), 'pos-3', 'recovered from the newest record');
    assert.equal(await exporter.lastCheckpoint('journald'), 'cursor-1');
    assert.equal(await exporter.lastCheckpoint('other'), undefined);
    assert.match(fs.readFileSync(file, 'utf8'), /pos-3/, 'the file is brought up to date');
    // Sequence numbers continue after the recovered one: a new checkpoint is newer.
    await exporter.consume(logsBatch(['c4'], { checkpoint: { source: 'filelog', state: 'pos-4' } }));
    await exporter.stop();
    exporter = await open();
    assert.equal(await exporter.lastCheckpoint('filelog'), 'pos-4');
  }, true);
});

test('kill -9: every batch acknowledged by consume() is delivered after a reopen, with the newest checkpoint', TIMEOUT, async () => {
  await withSetup(async ({ gateway, dir, open }) => {
    gateway.answer = () => ({ status: 503 });
    const child = spawn(process.execPath, [path.join(here, 'crash-exporter.fixture.ts'), dir, gateway.url], { stdio: ['ignore', 'pipe', 'pipe'] });
    const acked: number[] = [];
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    let pendingLine = '';
    child.stdout.on('data', (d: Buffer) => {
      pendingLine += d.toString();
      const lines = pendingLine.split('\n');
      pendingLine = lines.pop()!;
      for (const line of lines) {
        const m = /^ack (\d+)$/.exec(line);
        if (m) acked.push(Number(m[1]));
      }
    });
    let exitedEarly = false;
    void exited.then(() => (exitedEarly = acked.length < 300));
    await waitFor('300 acknowledged batches', () => acked.length >= 300 || exitedEarly, 40_000);
    assert.ok(!exitedEarly, `the child exited early: ${stderr}`);
    child.kill('SIGKILL');
    await exited;

    gateway.answer = () => OK;
    const exporter = await open();
    const want = acked.flatMap((n) => crashBatchIds(n));
    await waitFor('every acknowledged batch delivered', () => {
      const got = new Set(gateway.deliveredIds());
      return want.every((id) => got.has(id));
    }, 40_000);
    await waitFor('buffer drained', () => exporter.stats().bufferedBatches === 0);
    const delivered = gateway.deliveredIds();
    assert.equal(new Set(delivered).size, delivered.length, 'nothing delivered twice (nothing was ever committed)');
    assert.equal(delivered.length % CRASH_ITEMS_PER_BATCH, 0, 'no batch torn apart');
    const newestAckedCheckpoint = Math.max(...acked.filter((n) => n % 3 === 0));
    const state = await exporter.lastCheckpoint('filelog');
    assert.ok(state !== undefined);
    const n = (JSON.parse(state) as { n: number }).n;
    assert.ok(n >= newestAckedCheckpoint, `checkpoint ${n} is older than the newest acknowledged ${newestAckedCheckpoint}`);
    assert.ok(new Set(delivered).has(crashBatchIds(n)[0]), 'the checkpoint\'s own batch is in the buffer: data and position agree');
  });
});

test('bad options and batches are rejected naming the field', TIMEOUT, async () => {
  const dir = tempDir();
  try {
    const base = { dir, endpoint: 'http://127.0.0.1:4318', apiKey: 'k' };
    await assert.rejects(createBufferedExporter({ ...base, endpoint: 'nope' }), /endpoint/);
    await assert.rejects(createBufferedExporter({ ...base, endpoint: 'ftp://x' }), /endpoint/);
    await assert.rejects(createBufferedExporter({ ...base, apiKey: '' }), /apiKey/);
    await assert.rejects(createBufferedExporter({ ...base, dir: '' }), /dir/);
    await assert.rejects(createBufferedExporter({ ...base, capBytes: 1000 }), /capBytes/);
    await assert.rejects(createBufferedExporter({ ...base, maxRequestBytes: 0 }), /maxRequestBytes/);
    await assert.rejects(createBufferedExporter({ ...base, timeoutMs: -1 }), /timeoutMs/);
    await assert.rejects(createBufferedExporter({ ...base, backoffBaseMs: 100, backoffMaxMs: 10 }), /backoffMaxMs/);
    const exporter = await createBufferedExporter(base);
    try {
      await assert.rejects(exporter.consume({ ...logsBatch(['x']), signal: 'profiles' as 'logs' }), /signal/);
      await assert.rejects(exporter.consume({ ...logsBatch(['x']), items: -1 }), /items/);
      await assert.rejects(exporter.consume(logsBatch(['x'], { checkpoint: { source: '', state: 's' } })), /checkpoint\.source/);
      assert.equal(exporter.stats().bufferedBatches, 0, 'nothing rejected was buffered');
    } finally {
      await exporter.stop();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
