import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createEmbeddedBus, keyForPartition } from '../index.ts';
import type { Bus, ConsumedRecord } from '../index.ts';
import { busContractTests, pollUntil } from '../contract.ts';
import { CRASH_PARTITIONS, CRASH_RECORDS_PER_BATCH, CRASH_KEYS } from './crash-producer.fixture.ts';

const DAY_MS = 24 * 60 * 60 * 1000;
const here = path.dirname(fileURLToPath(import.meta.url));

busContractTests('embedded bus', (dir) => createEmbeddedBus({ dir }), {
  // Segments of about one test record and a retention pass every 50 ms, so retention acts at once.
  makeRetentionBus: (dir) => createEmbeddedBus({ dir, segmentBytes: 1024, retentionCheckIntervalMs: 50 }),
  // The embedded bus cannot delete a topic: an operator removes its folder while the bus is down.
  deleteTopic: async (bus, dir, topic) => {
    await bus.close();
    fs.rmSync(path.join(dir, 'topics', topic), { recursive: true, force: true });
    return createEmbeddedBus({ dir });
  },
});

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'bus-embedded-'));
}

function segmentFiles(dir: string, topic: string, partition: number): string[] {
  return fs
    .readdirSync(path.join(dir, 'topics', topic, String(partition)))
    .filter((f) => f.endsWith('.log'))
    .sort();
}

function capturingLogger() {
  const warnings: Array<{ obj: object; msg?: string }> = [];
  return { warnings, logger: { info() {}, warn: (obj: object, msg?: string) => void warnings.push({ obj, msg }) } };
}

async function readAll(bus: Bus, topic: string): Promise<ConsumedRecord[]> {
  const total = (await bus.lag(`reader-${Math.random()}`, topic)).reduce((n, l) => n + l.highWatermark - l.committed, 0);
  const c = bus.consumer({ groupId: `reader-${Math.random()}`, topics: [topic] });
  const got = await pollUntil(c, total, 20_000);
  await c.close();
  assert.equal(got.length, total, 'read every record up to the high watermark');
  return got;
}

test('acknowledged records survive kill -9 exactly once and in order; the log stays writable', { timeout: 60_000 }, async () => {
  const dir = tempDir();
  const topic = 'crash';
  try {
    const child = spawn(process.execPath, [path.join(here, 'crash-producer.fixture.ts'), dir, topic], { stdio: ['ignore', 'pipe', 'pipe'] });
    const acked: Array<{ batch: number; worker: number }> = [];
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    let buffered = '';
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    let earlyExit = (_code: number | null): void => {};
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => resolve(), 15_000);
      child.stdout.on('data', (d: Buffer) => {
        buffered += d.toString();
        const lines = buffered.split('\n');
        buffered = lines.pop()!;
        for (const line of lines) {
          const m = /^ack (\d+) (\d+)$/.exec(line);
          if (m) acked.push({ batch: Number(m[1]), worker: Number(m[2]) });
        }
        if (acked.length >= 400) {
          clearTimeout(timer);
          resolve();
        }
      });
      earlyExit = (code: number | null) => {
        clearTimeout(timer);
        reject(new Error(`producer exited early with ${code}: ${stderr}`));
      };
      child.on('exit', earlyExit);
    });
    child.off('exit', earlyExit);
    child.kill('SIGKILL');
    await exited;
    assert.ok(acked.length >= 50, `the producer acknowledged only ${acked.length} batches: ${stderr}`);

    const bus = await createEmbeddedBus({ dir });
    try {
      const records = await readAll(bus, topic);
      const seen = new Map<string, ConsumedRecord>();
      const perKeyByWorker = new Map<string, number[]>();
      for (const r of records.sort((a, b) => a.partition - b.partition || a.offset - b.offset)) {
        const v = JSON.parse(r.value.toString()) as { batch: number; i: number; worker: number };
        const id = `${v.batch}/${v.i}`;
        assert.ok(!seen.has(id), `record ${id} is in the log twice`);
        seen.set(id, r);
        assert.equal(r.key!.toString(), `key-${(v.batch + v.i) % CRASH_KEYS}`);
        // A worker waits for each ack before producing its next batch, so per key its
        // batches must appear in the log in the order it produced them.
        const k = `${r.key!.toString()}/${v.worker}`;
        if (!perKeyByWorker.has(k)) perKeyByWorker.set(k, []);
        perKeyByWorker.get(k)!.push(v.batch);
      }
      for (const { batch } of acked) {
        for (let i = 0; i < CRASH_RECORDS_PER_BATCH; i++) assert.ok(seen.has(`${batch}/${i}`), `acknowledged record ${batch}/${i} was lost`);
      }
      for (const [k, batches] of perKeyByWorker) {
        assert.deepEqual(batches, [...batches].sort((a, b) => a - b), `records of ${k} are out of order`);
      }
      // The reopened log accepts and serves new records after whatever tail the kill left.
      const before = await bus.lag('none', topic);
      await bus.produce(topic, Array.from({ length: CRASH_PARTITIONS * 2 }, (_, i) => ({ key: null, value: Buffer.from(`after-${i}`) })));
      const after = await bus.lag('none', topic);
      assert.deepEqual(after.map((l) => l.highWatermark), before.map((l) => l.highWatermark + 2));
      const again = await readAll(bus, topic);
      assert.equal(again.filter((r) => r.value.toString().startsWith('after-')).length, CRASH_PARTITIONS * 2);
    } finally {
      await bus.close();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a torn last record is truncated at open and appends continue from there', { timeout: 20_000 }, async () => {
  const dir = tempDir();
  try {
    let bus = await createEmbeddedBus({ dir });
    await bus.ensureTopics([{ name: 't', partitions: 1, retentionMs: DAY_MS }]);
    for (let i = 0; i < 10; i++) await bus.produce('t', [{ key: null, value: Buffer.from(`v${i}`) }]);
    await bus.close();
    const file = path.join(dir, 'topics', 't', '0', segmentFiles(dir, 't', 0)[0]);
    const goodSize = fs.statSync(file).size;
    // A frame that claims 300 body bytes but stops after 20: a write cut short by a crash.
    const torn = Buffer.alloc(28);
    torn.writeUInt32BE(300, 0);
    fs.appendFileSync(file, torn);

    const { warnings, logger } = capturingLogger();
    bus = await createEmbeddedBus({ dir, logger });
    try {
      assert.equal(fs.statSync(file).size, goodSize, 'the torn bytes are cut off');
      assert.ok(warnings.some((w) => /truncat/.test(w.msg ?? '')), 'the truncation is logged');
      assert.equal((await bus.lag('g', 't'))[0].highWatermark, 10);
      await bus.produce('t', [{ key: null, value: Buffer.from('v10') }]);
      const got = await readAll(bus, 't');
      assert.deepEqual(got.map((r) => r.value.toString()), Array.from({ length: 11 }, (_, i) => `v${i}`));
      assert.deepEqual(got.map((r) => r.offset), Array.from({ length: 11 }, (_, i) => i));
    } finally {
      await bus.close();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a record with a bad CRC is truncated with everything after it', { timeout: 20_000 }, async () => {
  const dir = tempDir();
  try {
    let bus = await createEmbeddedBus({ dir });
    await bus.ensureTopics([{ name: 't', partitions: 1, retentionMs: DAY_MS }]);
    const sizes: number[] = [];
    const file = () => path.join(dir, 'topics', 't', '0', segmentFiles(dir, 't', 0)[0]);
    for (let i = 0; i < 10; i++) {
      await bus.produce('t', [{ key: Buffer.from('k'), value: Buffer.from(`value-${i}`) }]);
      sizes.push(fs.statSync(file()).size);
    }
    await bus.close();
    // Flip the last byte of record 6's value (the byte just before record 7 starts).
    const fd = fs.openSync(file(), 'r+');
    const b = Buffer.alloc(1);
    fs.readSync(fd, b, 0, 1, sizes[6] - 1);
    b[0] ^= 0xff;
    fs.writeSync(fd, b, 0, 1, sizes[6] - 1);
    fs.closeSync(fd);

    bus = await createEmbeddedBus({ dir });
    try {
      assert.equal((await bus.lag('g', 't'))[0].highWatermark, 6);
      assert.equal(fs.statSync(file()).size, sizes[5]);
      const got = await readAll(bus, 't');
      assert.deepEqual(got.map((r) => r.value.toString()), Array.from({ length: 6 }, (_, i) => `value-${i}`));
    } finally {
      await bus.close();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('group commit: same-tick produces share one fdatasync per partition and resolve only after it', { timeout: 20_000 }, async () => {
  const dir = tempDir();
  const realFdatasync = fs.fdatasync;
  const held: Array<() => void> = [];
  const syncedFds: number[] = [];
  try {
    const bus = await createEmbeddedBus({ dir });
    await bus.ensureTopics([{ name: 'one', partitions: 1, retentionMs: DAY_MS }]);
    await bus.ensureTopics([{ name: 'four', partitions: 4, retentionMs: DAY_MS }]);
    fs.fdatasync = ((fd: number, cb: (err: NodeJS.ErrnoException | null) => void) => {
      syncedFds.push(fd);
      held.push(() => realFdatasync(fd, cb));
    }) as typeof fs.fdatasync;
    let acked = 0;
    const produces = [
      ...Array.from({ length: 100 }, (_, i) => bus.produce('one', [{ key: Buffer.from(`k${i}`), value: Buffer.alloc(1000, i) }])),
      ...Array.from({ length: 100 }, (_, i) => bus.produce('four', [{ key: Buffer.from(`k${i}`), value: Buffer.alloc(1000, i) }])),
    ].map((p) => p.then(() => acked++));
    const deadline = Date.now() + 5_000;
    while (syncedFds.length < 5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(syncedFds.length, 5, 'one fdatasync per touched partition for 200 produce calls');
    assert.equal(new Set(syncedFds).size, 5, 'each partition file synced once');
    assert.equal(acked, 0, 'nothing is acknowledged before its fdatasync completes');
    const c = bus.consumer({ groupId: 'g', topics: ['one'] });
    assert.equal((await c.poll({ maxRecords: 10, maxWaitMs: 0 })).length, 0, 'consumers do not see records before they are durable');
    fs.fdatasync = realFdatasync;
    for (const release of held) release();
    await Promise.all(produces);
    assert.equal(acked, 200);
    assert.equal((await pollUntil(c, 100)).length, 100);
    await c.close();
    await bus.close();
  } finally {
    fs.fdatasync = realFdatasync;
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('segments roll at the configured size and reads and time lookups span them, before and after reopen', { timeout: 30_000 }, async () => {
  const dir = tempDir();
  try {
    let bus = await createEmbeddedBus({ dir, segmentBytes: 16 * 1024 });
    await bus.ensureTopics([{ name: 't', partitions: 1, retentionMs: 100 * 365 * DAY_MS }]);
    const t0 = 1_600_000_000_000;
    const n = 300;
    // Wobbling timestamps (not monotonic) and sizes that straddle the 4 KiB index interval.
    const stamps = Array.from({ length: n }, (_, i) => t0 + i * 100 + ((i * 7919) % 5) * 130);
    const sizes = Array.from({ length: n }, (_, i) => 200 + ((i * 104729) % 6000));
    for (let i = 0; i < n; i += 10) {
      await bus.produce(
        't',
        Array.from({ length: 10 }, (_, j) => ({ key: Buffer.from('k'), value: Buffer.alloc(sizes[i + j], (i + j) % 251), timestamp: stamps[i + j] })),
      );
    }
    assert.ok(segmentFiles(dir, 't', 0).length >= 5, `expected several segments, got ${segmentFiles(dir, 't', 0).length}`);
    const check = async () => {
      const got = await readAll(bus, 't');
      assert.deepEqual(got.map((r) => r.offset), Array.from({ length: n }, (_, i) => i));
      got.forEach((r, i) => {
        assert.equal(r.value.length, sizes[i]);
        assert.ok(r.value.every((b) => b === i % 251), `record ${i} value corrupted`);
        assert.equal(r.timestamp, stamps[i]);
      });
      for (const t of [t0 - 5, t0 + 1, t0 + 4_321, t0 + 15_050, t0 + 29_000, t0 + 29_999, t0 + 40_000]) {
        const expected = stamps.findIndex((s) => s >= t);
        const [{ offset }] = await bus.offsetsForTime('t', t);
        assert.equal(offset, expected < 0 ? n : expected, `offsetsForTime(${t - t0})`);
      }
    };
    await check();
    await bus.close();
    bus = await createEmbeddedBus({ dir, segmentBytes: 16 * 1024 });
    try {
      await check();
    } finally {
      await bus.close();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('retention deletes whole old segments, at open and periodically, but never the active one', { timeout: 30_000 }, async () => {
  const dir = tempDir();
  try {
    const old = Date.now() - 60 * 60 * 1000;
    const value = Buffer.alloc(600, 7);
    let bus = await createEmbeddedBus({ dir, segmentBytes: 2048, retentionCheckIntervalMs: 60 * 60 * 1000 });
    await bus.ensureTopics([
      { name: 'mixed', partitions: 1, retentionMs: 60_000 },
      { name: 'allold', partitions: 1, retentionMs: 60_000 },
    ]);
    for (let i = 0; i < 30; i++) await bus.produce('mixed', [{ key: null, value, timestamp: old + i }]);
    for (let i = 0; i < 5; i++) await bus.produce('mixed', [{ key: null, value: Buffer.from(`new-${i}`) }]);
    const segmentsBefore = segmentFiles(dir, 'mixed', 0);
    assert.ok(segmentsBefore.length >= 4);
    await bus.close();

    // At open.
    bus = await createEmbeddedBus({ dir, segmentBytes: 2048, retentionCheckIntervalMs: 60 * 60 * 1000 });
    const segmentsAfter = segmentFiles(dir, 'mixed', 0);
    assert.ok(segmentsAfter.length < segmentsBefore.length, 'old segments were deleted at open');
    assert.deepEqual(segmentsAfter, segmentsBefore.slice(segmentsBefore.length - segmentsAfter.length), 'only the oldest go');
    const [lag] = await bus.lag('fresh', 'mixed');
    assert.equal(lag.highWatermark, 35, 'offsets keep counting');
    assert.equal(lag.committed, Number(segmentsAfter[0].slice(0, 20)), 'the log now starts at the first kept segment');
    const kept = await readAll(bus, 'mixed');
    assert.deepEqual(kept.slice(-5).map((r) => r.value.toString()), ['new-0', 'new-1', 'new-2', 'new-3', 'new-4']);
    assert.equal(kept[0].offset, lag.committed);
    await bus.close();

    // Periodically, and the active segment stays even when all its records are old.
    bus = await createEmbeddedBus({ dir, segmentBytes: 2048, retentionCheckIntervalMs: 50 });
    try {
      for (let i = 0; i < 30; i++) await bus.produce('allold', [{ key: null, value, timestamp: old + i }]);
      const deadline = Date.now() + 5_000;
      while (segmentFiles(dir, 'allold', 0).length > 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      const left = segmentFiles(dir, 'allold', 0);
      assert.equal(left.length, 1, 'everything but the active segment deleted');
      const [l] = await bus.lag('fresh', 'allold');
      assert.equal(Number(left[0].slice(0, 20)), l.committed);
      assert.equal(l.highWatermark, 30);
      assert.ok(l.lag > 0, 'the active segment keeps its (old) records');
      await bus.produce('allold', [{ key: null, value: Buffer.from('still-writable') }]);
      const rest = await readAll(bus, 'allold');
      assert.equal(rest.at(-1)!.value.toString(), 'still-writable');
      assert.equal(rest.at(-1)!.offset, 30);
    } finally {
      await bus.close();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('retentionBytes caps a partition: oldest whole segments go at each roll and periodically, never the active one', { timeout: 30_000 }, async () => {
  const dir = tempDir();
  const partitionBytes = (topic: string, p: number) =>
    segmentFiles(dir, topic, p).reduce((n, f) => n + fs.statSync(path.join(dir, 'topics', topic, String(p), f)).size, 0);
  try {
    const segmentBytes = 2048;
    const cap = 8 * 1024;
    const hour = 60 * 60 * 1000;
    let bus = await createEmbeddedBus({ dir, segmentBytes, retentionCheckIntervalMs: hour });
    await assert.rejects(bus.ensureTopics([{ name: 'bad', partitions: 1, retentionMs: DAY_MS, retentionBytes: 0 }]), /retentionBytes/);
    await bus.ensureTopics([
      { name: 'capped', partitions: 2, retentionMs: DAY_MS, retentionBytes: cap },
      { name: 'uncapped', partitions: 1, retentionMs: DAY_MS },
    ]);
    const reader = bus.consumer({ groupId: 'slow', topics: ['capped'] });
    assert.equal((await reader.poll({ maxRecords: 1, maxWaitMs: 0 })).length, 0);
    // One record per call and partition (null keys go round robin), so each partition rolls
    // many times and gets far more than the cap.
    const value = Buffer.alloc(500, 1);
    const perPartition = 100;
    for (let i = 0; i < perPartition; i++) {
      await bus.produce('capped', [
        { key: null, value, headers: { seq: String(i) } },
        { key: null, value, headers: { seq: String(i) } },
      ]);
      await bus.produce('uncapped', [{ key: null, value }]);
    }
    for (const p of [0, 1]) {
      assert.ok(partitionBytes('capped', p) <= cap + segmentBytes + 600, `partition ${p} holds ${partitionBytes('capped', p)} bytes, over the cap plus one segment`);
    }
    assert.ok(partitionBytes('uncapped', 0) >= perPartition * 500, 'a topic without a cap keeps everything');
    const lags = await bus.lag('slow', 'capped');
    for (const l of lags) {
      assert.equal(l.highWatermark, perPartition, 'offsets keep counting');
      assert.ok(l.committed > perPartition / 2, `the oldest records were deleted (log start ${l.committed})`);
    }
    // The consumer that fell behind continues at the log start and still gets the newest records.
    const got = await pollUntil(reader, lags.reduce((n, l) => n + l.lag, 0));
    for (const l of lags) {
      const mine = got.filter((r) => r.partition === l.partition);
      assert.equal(mine[0].offset, l.committed);
      assert.equal(mine.at(-1)!.headers.seq, String(perPartition - 1));
    }
    await reader.close();
    await bus.close();

    // The cap is stored with the topic and still holds after a reopen...
    const meta = JSON.parse(fs.readFileSync(path.join(dir, 'topics', 'capped', 'topic.json'), 'utf8')) as { retentionBytes?: number };
    assert.equal(meta.retentionBytes, cap);
    bus = await createEmbeddedBus({ dir, segmentBytes, retentionCheckIntervalMs: hour });
    for (let i = 0; i < 40; i++) await bus.produce('capped', [{ key: null, value }]);
    for (const p of [0, 1]) assert.ok(partitionBytes('capped', p) <= cap + segmentBytes + 600, `partition ${p} over the cap after a reopen`);
    await bus.close();
    // ...and a lowered cap applies in the periodic pass, after ensureTopics changed it.
    bus = await createEmbeddedBus({ dir, segmentBytes, retentionCheckIntervalMs: 50 });
    try {
      await bus.ensureTopics([{ name: 'capped', partitions: 2, retentionMs: DAY_MS, retentionBytes: 1024 }]);
      const deadline = Date.now() + 10_000;
      while (segmentFiles(dir, 'capped', 0).length > 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.equal(segmentFiles(dir, 'capped', 0).length, 1, 'everything but the active segment deleted');
      await bus.produce('capped', [{ key: null, value: Buffer.from('still-writable') }]);
      assert.ok((await readAll(bus, 'capped')).some((r) => r.value.toString() === 'still-writable'));
    } finally {
      await bus.close();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a consumer positioned in a deleted range continues at the log start', { timeout: 20_000 }, async () => {
  const dir = tempDir();
  try {
    const bus = await createEmbeddedBus({ dir, segmentBytes: 1024, retentionCheckIntervalMs: 30 });
    try {
      await bus.ensureTopics([{ name: 't', partitions: 1, retentionMs: 60_000 }]);
      const c = bus.consumer({ groupId: 'g', topics: ['t'] });
      for (let i = 0; i < 20; i++) await bus.produce('t', [{ key: null, value: Buffer.alloc(500), timestamp: 1000 + i }]);
      await bus.produce('t', [{ key: null, value: Buffer.from('fresh') }]);
      const deadline = Date.now() + 5_000;
      while ((await bus.lag('g', 't'))[0].committed === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      const start = (await bus.lag('g', 't'))[0].committed;
      assert.ok(start > 0, 'retention moved the log start');
      const got = await pollUntil(c, 21 - start);
      assert.equal(got[0].offset, start);
      assert.equal(got.at(-1)!.value.toString(), 'fresh');
      await c.close();
    } finally {
      await bus.close();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('records larger than the read chunk round-trip intact', { timeout: 20_000 }, async () => {
  const dir = tempDir();
  try {
    const bus = await createEmbeddedBus({ dir });
    try {
      const big = Buffer.alloc(3 * 1024 * 1024 + 17);
      for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff;
      await bus.produce('big', [
        { key: Buffer.from('a'), value: Buffer.from('small-1') },
        { key: Buffer.from('a'), value: big },
        { key: Buffer.from('a'), value: Buffer.from('small-2') },
      ]);
      const got = await readAll(bus, 'big');
      assert.equal(got.length, 3);
      assert.equal(got[0].value.toString(), 'small-1');
      assert.ok(got[1].value.equals(big));
      assert.equal(got[2].value.toString(), 'small-2');
    } finally {
      await bus.close();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('produce auto-creates a topic with defaultPartitions; bad records are rejected naming the field', { timeout: 20_000 }, async () => {
  const dir = tempDir();
  try {
    const bus = await createEmbeddedBus({ dir, defaultPartitions: 3 });
    try {
      await bus.produce('auto', [{ key: Buffer.from('x'), value: Buffer.from('1') }]);
      assert.equal((await bus.lag('g', 'auto')).length, 3);
      assert.ok(fs.existsSync(path.join(dir, 'topics', 'auto', 'topic.json')));
      await assert.rejects(bus.produce('auto', [{ key: null, value: 'nope' as unknown as Buffer }]), /records\[0\]\.value/);
      await assert.rejects(bus.produce('auto', [{ key: null, value: Buffer.from('a') }, { key: 'k' as unknown as Buffer, value: Buffer.from('b') }]), /records\[1\]\.key/);
      await assert.rejects(bus.produce('auto', [{ key: null, value: Buffer.from('a'), headers: { n: 5 as unknown as string } }]), /headers\.n/);
      await assert.rejects(bus.produce('bad/name', [{ key: null, value: Buffer.from('a') }]), /topic/);
      assert.equal((await bus.lag('g', 'auto')).reduce((n, l) => n + l.highWatermark, 0), 1, 'a rejected call appends nothing');
    } finally {
      await bus.close();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a data folder can be opened by one bus at a time', { timeout: 20_000 }, async () => {
  const dir = tempDir();
  try {
    const bus = await createEmbeddedBus({ dir });
    await assert.rejects(createEmbeddedBus({ dir }), /already open/);
    await bus.close();
    const again = await createEmbeddedBus({ dir });
    await again.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a consumer subscribed before its topic exists is assigned when the topic is created', { timeout: 20_000 }, async () => {
  const dir = tempDir();
  try {
    const bus = await createEmbeddedBus({ dir });
    try {
      const c = bus.consumer({ groupId: 'g', topics: ['later'] });
      assert.deepEqual(c.assignment(), []);
      const pending = c.poll({ maxRecords: 5, maxWaitMs: 5_000 });
      await bus.ensureTopics([{ name: 'later', partitions: 2, retentionMs: DAY_MS }]);
      assert.equal(c.assignment().length, 2);
      await bus.produce('later', [{ key: Buffer.from('k'), value: Buffer.from('hi') }]);
      const got = await pending;
      assert.deepEqual(got.map((r) => r.value.toString()), ['hi']);
      await c.close();
    } finally {
      await bus.close();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a partition revoked and assigned again during a poll: the poll hands back none of what its old slot read', { timeout: 20_000 }, async () => {
  const dir = tempDir();
  try {
    const bus = await createEmbeddedBus({ dir });
    try {
      await bus.ensureTopics([{ name: 'moves', partitions: 2, retentionMs: DAY_MS }]);
      const keyOf = (partition: number) => keyForPartition(partition, 2);
      const c = bus.consumer({ groupId: 'g', topics: ['moves'] });
      await bus.produce('moves', [
        ...['a0', 'a1'].map((v) => ({ key: keyOf(1), value: Buffer.from(v) })),
        ...['b0', 'b1', 'b2', 'b3', 'b4'].map((v) => ({ key: keyOf(0), value: Buffer.from(v) })),
      ]);
      // A poll of 6 reads partition 0's first 3 records and partition 1's 2, then one more of
      // partition 0. During that read, a second member joins (partition 1 goes to it) and
      // leaves (partition 1 comes back, as a new assignment).
      type Readable = { read: (...a: unknown[]) => Promise<number> };
      const logs = bus as unknown as { partitionLog(t: string, p: number): Readable };
      const [log0, log1] = [logs.partitionLog('moves', 0), logs.partitionLog('moves', 1)];
      const [read0, read1] = [log0.read.bind(log0), log1.read.bind(log1)];
      let read1Done = false;
      let moved = false;
      log1.read = async (...args: unknown[]) => {
        const next = await read1(...args);
        read1Done = true;
        return next;
      };
      log0.read = async (...args: unknown[]) => {
        if (read1Done && !moved) {
          moved = true;
          const other = bus.consumer({ groupId: 'g', topics: ['moves'] });
          assert.deepEqual(c.assignment().map((a) => a.partition), [0]);
          await other.close();
          assert.deepEqual(c.assignment().map((a) => a.partition).sort(), [0, 1]);
        }
        return read0(...args);
      };
      const first = await c.poll({ maxRecords: 6, maxWaitMs: 0 });
      assert.ok(moved, 'the rebalance ran during the poll, after partition 1 was read');
      assert.deepEqual(first.map((r) => r.value.toString()), ['b0', 'b1', 'b2', 'b3']);
      // Partition 1's new assignment starts at the committed offset (none: the log start): each record once.
      const rest = await pollUntil(c, 3, 5_000);
      assert.deepEqual(rest.map((r) => `${r.partition}:${r.offset}:${r.value}`).sort(), ['0:4:b4', '1:0:a0', '1:1:a1']);
      await c.close();
    } finally {
      await bus.close();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('topic ids: another data folder gives the same topic another id; a topic folder without one gets one, kept from then on', { timeout: 20_000 }, async () => {
  const a = tempDir();
  const b = tempDir();
  try {
    const ids: string[] = [];
    for (const dir of [a, b]) {
      const bus = await createEmbeddedBus({ dir });
      try {
        await bus.ensureTopics([{ name: 'traces', partitions: 1, retentionMs: DAY_MS }]);
        await bus.produce('traces', [{ key: null, value: Buffer.from('kept') }]);
        await bus.produce('auto', [{ key: null, value: Buffer.from('x') }]);
        ids.push(await bus.topicId('traces'));
        assert.notEqual(await bus.topicId('auto'), ids.at(-1), 'a topic created by produce has an id of its own');
        await assert.rejects(bus.topicId('bad/name'), /topicId: topic/);
      } finally {
        await bus.close();
      }
    }
    assert.notEqual(ids[0], ids[1], 'a wiped bus (a new data folder) is a new incarnation of its topics');

    // A topic folder written before topics had ids (its metadata has none).
    const metaFile = path.join(a, 'topics', 'traces', 'topic.json');
    const old = JSON.parse(fs.readFileSync(metaFile, 'utf8')) as { id?: string };
    delete old.id;
    fs.writeFileSync(metaFile, JSON.stringify(old));
    let bus = await createEmbeddedBus({ dir: a });
    const generated = await bus.topicId('traces');
    assert.notEqual(generated, ids[0]);
    assert.equal((JSON.parse(fs.readFileSync(metaFile, 'utf8')) as { id?: string }).id, generated, 'the generated id is written to the metadata');
    assert.deepEqual((await readAll(bus, 'traces')).map((r) => r.value.toString()), ['kept'], 'the topic and its data are kept');
    await bus.close();
    bus = await createEmbeddedBus({ dir: a });
    try {
      assert.equal(await bus.topicId('traces'), generated, 'and kept across a reopen');
    } finally {
      await bus.close();
    }

    fs.writeFileSync(metaFile, JSON.stringify({ ...old, id: 42 }));
    await assert.rejects(createEmbeddedBus({ dir: a }), /bad topic metadata .*id must be a non-empty string/);
  } finally {
    fs.rmSync(a, { recursive: true, force: true });
    fs.rmSync(b, { recursive: true, force: true });
  }
});
