/**
 * The Bus contract as node:test tests, shared by every Bus implementation (embedded and
 * Kafka). Each test uses fresh, randomly named topics and groups so it also runs
 * against a shared cluster; `makeBus(dir)` may ignore `dir` when the bus is not file-backed,
 * and is called again with the same dir to simulate a restart.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Bus, ConsumedRecord, Consumer, TopicPartition } from './types.ts';
import { kafkaPartitionForKey, keyForPartition } from './embedded/partitioner.ts';

const TEST_TIMEOUT_MS = 30_000;
const DAY_MS = 24 * 60 * 60 * 1000;

function unique(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

async function withBus(makeBus: (dir: string) => Promise<Bus>, fn: (bus: Bus, dir: string) => Promise<void>): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bus-contract-'));
  const bus = await makeBus(dir);
  try {
    await fn(bus, dir);
  } finally {
    await bus.close().catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Polls until `count` records arrived or the time is up. */
export async function pollUntil(consumer: Consumer, count: number, timeoutMs = 10_000): Promise<ConsumedRecord[]> {
  const out: ConsumedRecord[] = [];
  const deadline = Date.now() + timeoutMs;
  while (out.length < count && Date.now() < deadline) {
    const batch = await consumer.poll({ maxRecords: Math.min(500, count - out.length), maxWaitMs: 200 });
    out.push(...batch);
  }
  return out;
}

/** Kafka-convention commit (last processed + 1) of everything in `records`. */
export function commitsFor(records: ConsumedRecord[], metadata?: string) {
  const next = new Map<string, { topic: string; partition: number; offset: number; metadata?: string }>();
  for (const r of records) {
    const key = `${r.topic}/${r.partition}`;
    const cur = next.get(key);
    if (cur === undefined || r.offset + 1 > cur.offset) next.set(key, { topic: r.topic, partition: r.partition, offset: r.offset + 1, metadata });
  }
  return [...next.values()];
}

function tpKey(tp: TopicPartition): string {
  return `${tp.topic}/${tp.partition}`;
}

export interface ContractOptions {
  /**
   * Makes the bus of the retention test, where data past retention must go within seconds
   * (e.g. small segments and a short retention check interval). Default: makeBus.
   */
  makeRetentionBus?: (dir: string) => Promise<Bus>;
  /**
   * Deletes a topic as an operator would (Kafka: DeleteTopics; the embedded bus, which has no
   * such call: its folder removed while the bus is closed) and returns the bus to go on with.
   * Without it the topic id test checks only what needs no deletion.
   */
  deleteTopic?: (bus: Bus, dir: string, topic: string) => Promise<Bus>;
}

export function busContractTests(name: string, makeBus: (dir: string) => Promise<Bus>, options: ContractOptions = {}): void {
  const opts = { timeout: TEST_TIMEOUT_MS };

  test(`${name}: keeps order per key and puts a key on the partition Kafka would`, opts, async () => {
    await withBus(makeBus, async (bus) => {
      const topic = unique('order');
      const partitions = 4;
      await bus.ensureTopics([{ name: topic, partitions, retentionMs: DAY_MS }]);
      const keys = Array.from({ length: 10 }, (_, i) => `tenant-${i}`);
      const rounds = 15;
      for (let round = 0; round < rounds; round++) {
        const records = keys.flatMap((k) => [0, 1].map((j) => ({ key: Buffer.from(k), value: Buffer.from(`${k}:${round * 2 + j}`) })));
        await bus.produce(topic, records);
      }
      const consumer = bus.consumer({ groupId: unique('g'), topics: [topic] });
      const got = await pollUntil(consumer, keys.length * rounds * 2);
      assert.equal(got.length, keys.length * rounds * 2);
      const perKey = new Map<string, ConsumedRecord[]>();
      for (const r of got) {
        const k = r.key!.toString();
        if (!perKey.has(k)) perKey.set(k, []);
        perKey.get(k)!.push(r);
      }
      for (const k of keys) {
        const recs = perKey.get(k)!;
        const expectedPartition = kafkaPartitionForKey(Buffer.from(k), partitions);
        assert.ok(recs.every((r) => r.partition === expectedPartition), `key ${k} must stay on partition ${expectedPartition}`);
        const seqs = recs.map((r) => Number(r.value.toString().split(':')[1]));
        assert.deepEqual(seqs, Array.from({ length: rounds * 2 }, (_, i) => i), `key ${k} out of order`);
      }
      // Offsets of each partition are dense and start at 0, and come back in order.
      const perPartition = new Map<number, number[]>();
      for (const r of got) {
        if (!perPartition.has(r.partition)) perPartition.set(r.partition, []);
        perPartition.get(r.partition)!.push(r.offset);
      }
      for (const offsets of perPartition.values()) assert.deepEqual(offsets, offsets.map((_, i) => i));
      await consumer.close();
    });
  });

  test(`${name}: null keys go round robin across partitions`, opts, async () => {
    await withBus(makeBus, async (bus) => {
      const topic = unique('rr');
      await bus.ensureTopics([{ name: topic, partitions: 4, retentionMs: DAY_MS }]);
      await bus.produce(topic, Array.from({ length: 12 }, (_, i) => ({ key: null, value: Buffer.from(String(i)) })));
      const lag = await bus.lag(unique('g'), topic);
      assert.deepEqual(lag.map((l) => l.highWatermark), [3, 3, 3, 3]);
    });
  });

  test(`${name}: records carry value, key, headers and timestamp through`, opts, async () => {
    await withBus(makeBus, async (bus) => {
      const topic = unique('fields');
      await bus.ensureTopics([{ name: topic, partitions: 1, retentionMs: DAY_MS }]);
      const before = Date.now();
      // An hour ago: inside the topic's retention. A timestamp older than the retention may be
      // deleted by the broker's retention check before it is read (Kafka's test broker checks every second).
      const stamped = before - 3_600_000 + 123;
      await bus.produce(topic, [
        { key: Buffer.from('k'), value: Buffer.from([0, 1, 2, 255]), timestamp: stamped, headers: { tenant: 't-1', signal: 'logs', 'ünï': 'çødé' } },
        { key: null, value: Buffer.alloc(0) },
      ]);
      const after = Date.now();
      const consumer = bus.consumer({ groupId: unique('g'), topics: [topic] });
      const [a, b] = await pollUntil(consumer, 2);
      assert.deepEqual([...a.value], [0, 1, 2, 255]);
      assert.equal(a.key!.toString(), 'k');
      assert.equal(a.timestamp, stamped);
      assert.deepEqual(a.headers, { tenant: 't-1', signal: 'logs', 'ünï': 'çødé' });
      assert.equal(b.key, null);
      assert.equal(b.value.length, 0);
      assert.deepEqual(b.headers, {});
      assert.ok(b.timestamp >= before && b.timestamp <= after, 'a missing timestamp defaults to now');
      await consumer.close();
    });
  });

  test(`${name}: poll waits for new records and wakes on append`, opts, async () => {
    await withBus(makeBus, async (bus) => {
      const topic = unique('wait');
      await bus.ensureTopics([{ name: topic, partitions: 2, retentionMs: DAY_MS }]);
      const consumer = bus.consumer({ groupId: unique('g'), topics: [topic] });

      const emptyStart = Date.now();
      const empty = await consumer.poll({ maxRecords: 10, maxWaitMs: 300 });
      const emptyElapsed = Date.now() - emptyStart;
      assert.equal(empty.length, 0);
      assert.ok(emptyElapsed >= 280, `empty poll returned after ${emptyElapsed} ms, before maxWaitMs`);
      assert.ok(emptyElapsed < 2_000, `empty poll took ${emptyElapsed} ms`);

      const start = Date.now();
      const pending = consumer.poll({ maxRecords: 10, maxWaitMs: 8_000 });
      await new Promise((r) => setTimeout(r, 150));
      await bus.produce(topic, [{ key: Buffer.from('x'), value: Buffer.from('hello') }]);
      const got = await pending;
      const elapsed = Date.now() - start;
      assert.equal(got.length, 1);
      assert.equal(got[0].value.toString(), 'hello');
      assert.ok(elapsed >= 140, `poll returned after ${elapsed} ms, before the record was produced`);
      assert.ok(elapsed < 4_000, `poll took ${elapsed} ms to wake up on append`);
      await consumer.close();
    });
  });

  test(`${name}: committed offsets and metadata survive consumer and bus restarts`, opts, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bus-contract-'));
    const topic = unique('commit');
    const groupId = unique('g');
    const tp = { topic, partition: 0 };
    try {
      let bus = await makeBus(dir);
      await bus.ensureTopics([{ name: topic, partitions: 1, retentionMs: DAY_MS }]);
      await bus.produce(topic, Array.from({ length: 20 }, (_, i) => ({ key: null, value: Buffer.from(`v${i}`) })));
      const first = bus.consumer({ groupId, topics: [topic] });
      assert.equal(await first.committed(tp), null);
      const got = await pollUntil(first, 7);
      const processed = got.slice(0, 7);
      await first.commit(commitsFor(processed, 'batch-7'));
      await first.close();

      const second = bus.consumer({ groupId, topics: [topic] });
      assert.deepEqual(await second.committed(tp), { topic, partition: 0, offset: 7, metadata: 'batch-7' });
      const resumed = await second.poll({ maxRecords: 1, maxWaitMs: 2_000 });
      assert.equal(resumed[0]?.offset, 7);
      assert.equal(resumed[0]?.value.toString(), 'v7');
      await second.close();
      await bus.close();

      bus = await makeBus(dir);
      try {
        const third = bus.consumer({ groupId, topics: [topic] });
        assert.deepEqual(await third.committed(tp), { topic, partition: 0, offset: 7, metadata: 'batch-7' });
        const after = await pollUntil(third, 13);
        assert.deepEqual(after.map((r) => r.offset), Array.from({ length: 13 }, (_, i) => i + 7));
        await third.commit([{ topic, partition: 0, offset: 20 }]);
        const c = await third.committed(tp);
        assert.equal(c?.offset, 20);
        assert.ok(c?.metadata === undefined || c.metadata === '', 'a commit without metadata does not keep the old one');
        await third.close();
      } finally {
        await bus.close();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test(`${name}: a group splits partitions between members and moves a closed member's partitions`, opts, async () => {
    await withBus(makeBus, async (bus) => {
      const topic = unique('rebalance');
      const partitions = 6;
      const groupId = unique('g');
      await bus.ensureTopics([{ name: topic, partitions, retentionMs: DAY_MS }]);
      const produceRound = (round: number) =>
        bus.produce(topic, Array.from({ length: 60 }, (_, i) => ({ key: Buffer.from(`key-${i}`), value: Buffer.from(`${round}:${i}`) })));
      await produceRound(0);

      const a = bus.consumer({ groupId, topics: [topic] });
      const aEvents: Array<{ assigned: TopicPartition[]; revoked: TopicPartition[] }> = [];
      a.onRebalance((e) => aEvents.push(e));
      const b = bus.consumer({ groupId, topics: [topic] });
      const bEvents: Array<{ assigned: TopicPartition[]; revoked: TopicPartition[] }> = [];
      b.onRebalance((e) => bEvents.push(e));

      const seen = new Map<string, number>();
      // Every partition owned by exactly one of the members, each owning some: a group may
      // reach that asynchronously (Kafka's coordinator moves partitions over a few heartbeats).
      const settled = (members: Consumer[]) => {
        const owned = members.map((m) => m.assignment().map(tpKey));
        const all = owned.flat();
        return owned.every((o) => o.length > 0) && all.length === partitions && new Set(all).size === partitions;
      };
      const consumeRound = async (members: Consumer[], expectedTotal: number) => {
        const deadline = Date.now() + 15_000;
        while ((seen.size < expectedTotal || !settled(members)) && Date.now() < deadline) {
          for (const m of members) {
            const recs = await m.poll({ maxRecords: 25, maxWaitMs: 50 });
            const owned = new Set(m.assignment().map(tpKey));
            for (const r of recs) {
              assert.ok(owned.has(tpKey(r)), `record of ${tpKey(r)} delivered to a member that does not own it`);
              const id = r.value.toString();
              seen.set(id, (seen.get(id) ?? 0) + 1);
            }
            if (recs.length > 0) await m.commit(commitsFor(recs));
          }
        }
      };
      await consumeRound([a, b], 60);

      const aParts = a.assignment().map(tpKey);
      const bParts = b.assignment().map(tpKey);
      assert.ok(aParts.length > 0 && bParts.length > 0, 'both members own partitions');
      assert.equal(aParts.filter((p) => bParts.includes(p)).length, 0, 'no partition is owned twice');
      assert.deepEqual([...aParts, ...bParts].sort(), Array.from({ length: partitions }, (_, p) => `${topic}/${p}`).sort());
      assert.equal(seen.size, 60);
      assert.ok([...seen.values()].every((n) => n === 1), 'committed records are not redelivered');
      const netOfEvents = (events: typeof aEvents) => {
        const owned = new Set<string>();
        for (const e of events) {
          for (const tp of e.revoked) owned.delete(tpKey(tp));
          for (const tp of e.assigned) owned.add(tpKey(tp));
        }
        return [...owned].sort();
      };
      assert.deepEqual(netOfEvents(aEvents), [...aParts].sort(), "a's rebalance events add up to its assignment");
      assert.deepEqual(netOfEvents(bEvents), [...bParts].sort(), "b's rebalance events add up to its assignment");

      await b.close();
      await produceRound(1);
      await consumeRound([a], 120);
      assert.equal(a.assignment().length, partitions, 'the remaining member owns every partition');
      assert.deepEqual(netOfEvents(aEvents), Array.from({ length: partitions }, (_, p) => `${topic}/${p}`).sort(), 'a is told it got b\'s partitions');
      assert.equal(seen.size, 120, 'every record consumed after the member left');
      assert.ok([...seen.values()].every((n) => n === 1), 'the closed member committed, so nothing is redelivered');
      await a.close();
    });
  });

  test(`${name}: a revoked partition's uncommitted records are redelivered to its new owner`, opts, async () => {
    await withBus(makeBus, async (bus) => {
      const topic = unique('redeliver');
      const groupId = unique('g');
      await bus.ensureTopics([{ name: topic, partitions: 2, retentionMs: DAY_MS }]);
      await bus.produce(topic, Array.from({ length: 20 }, (_, i) => ({ key: null, value: Buffer.from(String(i)) })));
      const a = bus.consumer({ groupId, topics: [topic] });
      const b = bus.consumer({ groupId, topics: [topic] });
      const bRecords = await pollUntil(b, 10);
      assert.equal(bRecords.length, 10);
      const bPartition = b.assignment()[0].partition;
      await b.commit([{ topic, partition: bPartition, offset: 4 }]);
      await b.close();
      const deadline = Date.now() + 10_000;
      const aRecords: ConsumedRecord[] = [];
      while (Date.now() < deadline && aRecords.filter((r) => r.partition === bPartition).length < 6) {
        aRecords.push(...(await a.poll({ maxRecords: 50, maxWaitMs: 100 })));
      }
      const moved = aRecords.filter((r) => r.partition === bPartition).map((r) => r.offset);
      assert.deepEqual(moved, [4, 5, 6, 7, 8, 9], 'a resumes the moved partition from its committed offset');
      await a.close();
    });
  });

  test(`${name}: different groups each get every record`, opts, async () => {
    await withBus(makeBus, async (bus) => {
      const topic = unique('groups');
      await bus.ensureTopics([{ name: topic, partitions: 3, retentionMs: DAY_MS }]);
      await bus.produce(topic, Array.from({ length: 30 }, (_, i) => ({ key: Buffer.from(`k${i}`), value: Buffer.from(String(i)) })));
      const a = bus.consumer({ groupId: unique('g'), topics: [topic] });
      const b = bus.consumer({ groupId: unique('g'), topics: [topic] });
      const [ra, rb] = [await pollUntil(a, 30), await pollUntil(b, 30)];
      const values = (rs: ConsumedRecord[]) => rs.map((r) => Number(r.value.toString())).sort((x, y) => x - y);
      assert.deepEqual(values(ra), Array.from({ length: 30 }, (_, i) => i));
      assert.deepEqual(values(rb), Array.from({ length: 30 }, (_, i) => i));
      await a.close();
      await b.close();
    });
  });

  test(`${name}: fromBeginning=false starts a new group at the end`, opts, async () => {
    await withBus(makeBus, async (bus) => {
      const topic = unique('latest');
      await bus.ensureTopics([{ name: topic, partitions: 1, retentionMs: DAY_MS }]);
      await bus.produce(topic, [{ key: null, value: Buffer.from('old') }]);
      const c = bus.consumer({ groupId: unique('g'), topics: [topic], fromBeginning: false });
      assert.equal((await c.poll({ maxRecords: 10, maxWaitMs: 100 })).length, 0);
      await bus.produce(topic, [{ key: null, value: Buffer.from('new') }]);
      const got = await pollUntil(c, 1);
      assert.deepEqual(got.map((r) => r.value.toString()), ['new']);
      await c.close();
    });
  });

  test(`${name}: seek moves the fetch position to an offset`, opts, async () => {
    await withBus(makeBus, async (bus) => {
      const topic = unique('seek');
      await bus.ensureTopics([{ name: topic, partitions: 1, retentionMs: DAY_MS }]);
      await bus.produce(topic, Array.from({ length: 10 }, (_, i) => ({ key: null, value: Buffer.from(`v${i}`) })));
      const c = bus.consumer({ groupId: unique('g'), topics: [topic] });
      assert.equal((await pollUntil(c, 10)).length, 10);
      c.seek({ topic, partition: 0 }, 3);
      const again = await pollUntil(c, 7);
      assert.deepEqual(again.map((r) => r.value.toString()), ['v3', 'v4', 'v5', 'v6', 'v7', 'v8', 'v9']);
      assert.throws(() => c.seek({ topic, partition: 5 }, 0), /not assigned/);
      await c.close();
    });
  });

  test(`${name}: offsetsForTime finds the first record at or after a time, for seeking`, opts, async () => {
    await withBus(makeBus, async (bus) => {
      const topic = unique('time');
      await bus.ensureTopics([{ name: topic, partitions: 1, retentionMs: 100 * 365 * DAY_MS }]);
      const t0 = 1_700_000_000_000;
      // Timestamps are producer-supplied and need not be monotonic.
      const stamps = [0, 1000, 2000, 5000, 3000, 4000, 6000, 7000];
      await bus.produce(topic, stamps.map((s, i) => ({ key: null, value: Buffer.from(`v${i}`), timestamp: t0 + s })));
      const at = async (t: number) => (await bus.offsetsForTime(topic, t))[0].offset;
      assert.equal(await at(t0 - 1), 0);
      assert.equal(await at(t0), 0);
      assert.equal(await at(t0 + 1), 1);
      assert.equal(await at(t0 + 2500), 3, 'the first record whose timestamp is >= t, not the first after it in time');
      assert.equal(await at(t0 + 5500), 6);
      assert.equal(await at(t0 + 7000), 7);
      assert.equal(await at(t0 + 9000), stamps.length, 'past every record: the end of the log');

      const c = bus.consumer({ groupId: unique('g'), topics: [topic] });
      c.seek({ topic, partition: 0 }, await at(t0 + 5500));
      const got = await pollUntil(c, 2);
      assert.deepEqual(got.map((r) => r.timestamp - t0), [6000, 7000]);
      await c.close();
    });
  });

  test(`${name}: lag is the high watermark minus the committed offset`, opts, async () => {
    await withBus(makeBus, async (bus) => {
      const topic = unique('lag');
      const groupId = unique('g');
      await bus.ensureTopics([{ name: topic, partitions: 2, retentionMs: DAY_MS }]);
      const keyFor = (p: number) => keyForPartition(p, 2);
      await bus.produce(topic, [
        ...Array.from({ length: 7 }, () => ({ key: keyFor(0), value: Buffer.from('a') })),
        ...Array.from({ length: 4 }, () => ({ key: keyFor(1), value: Buffer.from('b') })),
      ]);
      const strip = (l: Awaited<ReturnType<Bus['lag']>>) => l.map(({ partition, committed, highWatermark, lag }) => ({ partition, committed, highWatermark, lag }));
      assert.deepEqual(strip(await bus.lag(groupId, topic)), [
        { partition: 0, committed: 0, highWatermark: 7, lag: 7 },
        { partition: 1, committed: 0, highWatermark: 4, lag: 4 },
      ]);
      const c = bus.consumer({ groupId, topics: [topic] });
      await c.commit([{ topic, partition: 0, offset: 5 }, { topic, partition: 1, offset: 4 }]);
      await c.close();
      assert.deepEqual(strip(await bus.lag(groupId, topic)), [
        { partition: 0, committed: 5, highWatermark: 7, lag: 2 },
        { partition: 1, committed: 4, highWatermark: 4, lag: 0 },
      ]);
    });
  });

  test(`${name}: setCommitted rewinds a stopped group and refuses a live one`, opts, async () => {
    await withBus(makeBus, async (bus) => {
      const topic = unique('replay');
      const groupId = unique('g');
      await bus.ensureTopics([{ name: topic, partitions: 1, retentionMs: DAY_MS }]);
      await bus.produce(topic, Array.from({ length: 10 }, (_, i) => ({ key: null, value: Buffer.from(`v${i}`) })));
      const c = bus.consumer({ groupId, topics: [topic] });
      await c.commit(commitsFor(await pollUntil(c, 10)));
      await assert.rejects(bus.setCommitted(groupId, [{ topic, partition: 0, offset: 2 }]), /live member/);
      await c.close();
      await bus.setCommitted(groupId, [{ topic, partition: 0, offset: 2, metadata: 'replay' }]);
      const d = bus.consumer({ groupId, topics: [topic] });
      assert.deepEqual(await d.committed({ topic, partition: 0 }), { topic, partition: 0, offset: 2, metadata: 'replay' });
      const got = await pollUntil(d, 8);
      assert.deepEqual(got.map((r) => r.offset), [2, 3, 4, 5, 6, 7, 8, 9]);
      await d.close();
    });
  });

  test(`${name}: ensureTopics keeps an existing topic's partition count`, opts, async () => {
    await withBus(makeBus, async (bus) => {
      const topic = unique('keep');
      await bus.ensureTopics([{ name: topic, partitions: 3, retentionMs: DAY_MS }]);
      await bus.ensureTopics([{ name: topic, partitions: 5, retentionMs: DAY_MS }]);
      assert.equal((await bus.lag(unique('g'), topic)).length, 3);
      assert.equal((await bus.offsetsForTime(topic, 0)).length, 3);
    });
  });

  test(`${name}: a topic's id is stable across restarts and retention changes, differs between topics, and is new for a topic created again`, opts, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bus-contract-'));
    const topic = unique('id');
    const other = unique('id');
    let bus = await makeBus(dir);
    try {
      await bus.ensureTopics([
        { name: topic, partitions: 2, retentionMs: DAY_MS },
        { name: other, partitions: 2, retentionMs: DAY_MS },
      ]);
      const id = await bus.topicId(topic);
      assert.ok(typeof id === 'string' && id !== '', `a topic id is a non-empty string, got ${JSON.stringify(id)}`);
      const otherId = await bus.topicId(other);
      assert.notEqual(otherId, id, 'two topics have two ids');
      await bus.ensureTopics([{ name: topic, partitions: 2, retentionMs: 2 * DAY_MS }]);
      assert.equal(await bus.topicId(topic), id, 'changing the retention keeps the id');
      await bus.produce(topic, [{ key: null, value: Buffer.from('a') }]);
      await assert.rejects(bus.topicId(unique('missing')), /unknown topic/);
      await bus.close();

      bus = await makeBus(dir);
      assert.equal(await bus.topicId(topic), id, 'the id survives a restart');
      if (options.deleteTopic !== undefined) {
        bus = await options.deleteTopic(bus, dir, topic);
        await bus.ensureTopics([{ name: topic, partitions: 2, retentionMs: DAY_MS }]);
        const again = await bus.topicId(topic);
        assert.notEqual(again, id, 'a topic deleted and created again has a new id');
        assert.deepEqual((await bus.lag(unique('g'), topic)).map((l) => l.highWatermark), [0, 0], 'and its offsets start again at 0');
        assert.equal(await bus.topicId(other), otherId, 'the other topic keeps its id');
      }
    } finally {
      await bus.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test(`${name}: records older than the topic's retention are deleted, newer ones stay`, opts, async () => {
    await withBus(options.makeRetentionBus ?? makeBus, async (bus) => {
      const topic = unique('retention');
      await bus.ensureTopics([{ name: topic, partitions: 1, retentionMs: 60_000 }]);
      const old = Date.now() - 60 * 60 * 1000;
      const oldCount = 20;
      // One call per record, so old records fill several segments where segments roll by size.
      for (let i = 0; i < oldCount; i++) await bus.produce(topic, [{ key: null, value: Buffer.alloc(600, i), timestamp: old + i }]);
      for (let i = 0; i < 3; i++) await bus.produce(topic, [{ key: null, value: Buffer.from(`fresh-${i}`) }]);
      const logStart = async () => (await bus.lag(unique('g'), topic))[0].committed;
      // Retention deletes whole segments: the one that also holds the fresh records may keep an old one.
      const deadline = Date.now() + 20_000;
      let start = await logStart();
      while (start < oldCount - 1 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
        start = await logStart();
      }
      assert.ok(start >= oldCount - 1, `records past retention are still there: the log starts at offset ${start}`);
      const c = bus.consumer({ groupId: unique('g'), topics: [topic] });
      const rest = await pollUntil(c, oldCount + 3 - start);
      assert.equal(rest[0]?.offset, start, 'a new group starts at the new log start');
      assert.deepEqual(
        rest.filter((r) => r.timestamp >= old + oldCount).map((r) => r.value.toString()),
        ['fresh-0', 'fresh-1', 'fresh-2'],
        'records within retention stay',
      );
      await c.close();
    });
  });

  test(`${name}: produce and poll reject after close with a clear error`, opts, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bus-contract-'));
    try {
      const bus = await makeBus(dir);
      const topic = unique('closed');
      await bus.ensureTopics([{ name: topic, partitions: 1, retentionMs: DAY_MS }]);
      const c = bus.consumer({ groupId: unique('g'), topics: [topic] });
      const inFlight = bus.produce(topic, [{ key: null, value: Buffer.from('last') }]);
      await bus.close();
      await inFlight; // accepted before close: flushed by close
      await assert.rejects(bus.produce(topic, [{ key: null, value: Buffer.from('x') }]), /closed/);
      await assert.rejects(c.poll({ maxRecords: 1, maxWaitMs: 10 }), /closed/);
      const reopened = await makeBus(dir);
      try {
        const d = reopened.consumer({ groupId: unique('g'), topics: [topic] });
        assert.deepEqual((await pollUntil(d, 1)).map((r) => r.value.toString()), ['last']);
        await d.close();
        await d.close();
        await assert.rejects(d.poll({ maxRecords: 1, maxWaitMs: 10 }), /closed/);
      } finally {
        await reopened.close();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}
