import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Admin, ConfigResourceTypes } from '@platformatic/kafka';
import { createKafkaBus, kafkaPartitionForKey } from '../index.ts';
import type { Bus } from '../index.ts';
import { busContractTests, pollUntil } from '../contract.ts';
import { requireKafka, TEST_KAFKA } from './testing.ts';

const DAY_MS = 24 * 60 * 60 * 1000;

function capturingLogger() {
  const warnings: Array<{ obj: object; msg?: string }> = [];
  return { warnings, logger: { info() {}, warn: (obj: object, msg?: string) => void warnings.push({ obj, msg }) } };
}

/**
 * A topic config as the broker describes it, read again until it shows `expected` or 10 s pass.
 * The controller commits an alteration before the broker's metadata image has it, so a
 * describe straight after the alter can still show the old value for a moment.
 */
async function settledConfig(admin: Admin, topic: string, name: string, expected: string): Promise<string | null | undefined> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const [description] = await admin.describeConfigs({ resources: [{ resourceType: ConfigResourceTypes.TOPIC, resourceName: topic, configurationKeys: [name] }] });
    const value = description?.configs.find((c) => c.name === name)?.value;
    if (value === expected || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('kafka: the test broker answers', { timeout: 30_000 }, async () => {
  await requireKafka();
});

// Topics of this file are deleted when the file is done, so runs do not pile them up on the shared broker.
const contractTopics = new Set<string>();
function trackingTopics(bus: Bus): Bus {
  const ensureTopics = bus.ensureTopics.bind(bus);
  bus.ensureTopics = async (specs) => {
    await ensureTopics(specs);
    for (const spec of specs) contractTopics.add(spec.name);
  };
  return bus;
}
after(async () => {
  if (contractTopics.size === 0) return;
  const admin = new Admin({ clientId: 'ollystack-test-cleanup', bootstrapBrokers: [TEST_KAFKA] });
  await admin.deleteTopics({ topics: [...contractTopics] }).catch(() => undefined);
  await admin.close();
});

busContractTests(
  'kafka',
  async () => {
    await requireKafka();
    return trackingTopics(await createKafkaBus({ brokers: [TEST_KAFKA], clientId: 'ollystack-contract' }));
  },
  {
    deleteTopic: async (bus, _dir, topic) => {
      const admin = new Admin({ clientId: 'ollystack-test-delete', bootstrapBrokers: [TEST_KAFKA] });
      try {
        await admin.deleteTopics({ topics: [topic] });
      } finally {
        await admin.close();
      }
      // Deletion completes asynchronously: the topic is gone once the brokers no longer know it.
      const deadline = Date.now() + 20_000;
      for (;;) {
        const gone = await bus.topicId(topic).then(
          () => false,
          (err: Error) => /unknown topic/.test(err.message),
        );
        if (gone) return bus;
        if (Date.now() > deadline) throw new Error(`topic ${topic} still exists 20 s after it was deleted`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
  },
);

test('kafka: new topics get retention, a segment roll that lets retention act, and the replication the cluster has', { timeout: 30_000 }, async () => {
  await requireKafka();
  const { warnings, logger } = capturingLogger();
  const bus = trackingTopics(await createKafkaBus({ brokers: [TEST_KAFKA], replicationFactor: 3, logger }));
  const admin = new Admin({ clientId: 'ollystack-test-admin', bootstrapBrokers: [TEST_KAFKA] });
  try {
    const long = `cfg-long-${randomUUID().slice(0, 8)}`;
    const short = `cfg-short-${randomUUID().slice(0, 8)}`;
    const capped = `cfg-capped-${randomUUID().slice(0, 8)}`;
    await bus.ensureTopics([
      { name: long, partitions: 2, retentionMs: 3 * DAY_MS },
      { name: short, partitions: 1, retentionMs: 60_000 },
      { name: capped, partitions: 1, retentionMs: DAY_MS, retentionBytes: 64 * 1024 * 1024 },
    ]);
    const configs = await admin.describeConfigs({
      resources: [long, short, capped].map((resourceName) => ({
        resourceType: ConfigResourceTypes.TOPIC,
        resourceName,
        configurationKeys: ['retention.ms', 'segment.ms', 'min.insync.replicas', 'retention.bytes', 'segment.bytes'],
      })),
    });
    const value = (topic: string, name: string) => configs.find((c) => c.resourceName === topic)?.configs.find((c) => c.name === name)?.value;
    assert.equal(value(long, 'retention.ms'), String(3 * DAY_MS));
    assert.equal(value(long, 'segment.ms'), String(DAY_MS), 'a long retention rolls segments daily');
    assert.equal(value(short, 'retention.ms'), '60000');
    assert.equal(value(short, 'segment.ms'), '60000', 'a short retention rolls segments at the retention');
    assert.equal(value(short, 'min.insync.replicas'), '1');
    assert.equal(value(long, 'retention.bytes'), '-1', 'no size cap unless the spec sets one');
    assert.equal(value(capped, 'retention.bytes'), String(64 * 1024 * 1024));
    assert.equal(value(capped, 'segment.bytes'), String(4 * 1024 * 1024), 'a size cap rolls segments at a sixteenth of it');
    const metadata = await admin.metadata({ topics: [long] });
    assert.equal(metadata.topics.get(long)!.partitions[0].replicas.length, metadata.brokers.size, 'replication capped to the brokers present');
    assert.ok(
      warnings.some((w) => /replication factor/.test(w.msg ?? '')),
      'a warning says the replication factor was lowered',
    );

    // ensureTopics again with another retention: updated in place, partitions kept.
    await bus.ensureTopics([{ name: short, partitions: 4, retentionMs: 120_000 }]);
    assert.equal(await settledConfig(admin, short, 'retention.ms', '120000'), '120000');
    await bus.ensureTopics([{ name: capped, partitions: 1, retentionMs: DAY_MS, retentionBytes: 32 * 1024 * 1024 }]);
    const cap = String(32 * 1024 * 1024);
    assert.equal(await settledConfig(admin, capped, 'retention.bytes', cap), cap, 'a changed size cap is applied in place');
    assert.equal((await bus.lag('g', short)).length, 1);
    assert.ok(warnings.some((w) => /partition count/.test(w.msg ?? '')));
  } finally {
    await admin.close();
    await bus.close();
  }
});

test('kafka: bad input is rejected with an error naming the field', { timeout: 30_000 }, async () => {
  await requireKafka();
  await assert.rejects(createKafkaBus({ brokers: [] }), /brokers/);
  await assert.rejects(createKafkaBus({ brokers: ['nope'] }), /brokers\[0\]/);
  await assert.rejects(createKafkaBus({ brokers: [TEST_KAFKA], compression: 'snappy' as 'lz4' }), /compression/);
  await assert.rejects(createKafkaBus({ brokers: [TEST_KAFKA], produceTimeoutMs: 0 }), /produceTimeoutMs/);
  const bus = trackingTopics(await createKafkaBus({ brokers: [TEST_KAFKA] }));
  try {
    const topic = `bad-${randomUUID().slice(0, 8)}`;
    await bus.ensureTopics([{ name: topic, partitions: 1, retentionMs: DAY_MS }]);
    await assert.rejects(bus.produce(topic, [{ key: null, value: 'nope' as unknown as Buffer }]), /records\[0\]\.value/);
    await assert.rejects(bus.produce(topic, [{ key: null, value: Buffer.from('a'), headers: { n: 5 as unknown as string } }]), /headers\.n/);
    await assert.rejects(bus.produce(`missing-${randomUUID().slice(0, 8)}`, [{ key: null, value: Buffer.from('a') }]), /unknown topic/);
    await assert.rejects(bus.ensureTopics([{ name: 'x', partitions: 0, retentionMs: DAY_MS }]), /partitions/);
    const c = bus.consumer({ groupId: `g-${randomUUID().slice(0, 8)}`, topics: [topic] });
    await assert.rejects(c.commit([{ topic, partition: 0, offset: -1 }]), /offsets\[0\]\.offset/);
    await assert.rejects(c.poll({ maxRecords: 0, maxWaitMs: 10 }), /maxRecords/);
    await assert.rejects(bus.lag('g', `missing-${randomUUID().slice(0, 8)}`), /unknown topic/);
    assert.equal((await bus.lag('g', topic)).reduce((n, l) => n + l.highWatermark, 0), 0, 'a rejected call appends nothing');
    await c.close();
  } finally {
    await bus.close();
  }
});

test('kafka: merged produce calls from many callers all land, each on its key\'s partition', { timeout: 30_000 }, async () => {
  await requireKafka();
  const bus = trackingTopics(await createKafkaBus({ brokers: [TEST_KAFKA] }));
  try {
    const topic = `merge-${randomUUID().slice(0, 8)}`;
    await bus.ensureTopics([{ name: topic, partitions: 8, retentionMs: DAY_MS }]);
    const callers = 50;
    const value = Buffer.alloc(20_000, 7);
    await Promise.all(Array.from({ length: callers }, (_, i) => bus.produce(topic, [{ key: Buffer.from(`k${i}`), value, headers: { caller: String(i) } }])));
    const c = bus.consumer({ groupId: `g-${randomUUID().slice(0, 8)}`, topics: [topic] });
    const got = await pollUntil(c, callers, 15_000);
    assert.equal(got.length, callers);
    assert.deepEqual(got.map((r) => Number(r.headers.caller)).sort((a, b) => a - b), Array.from({ length: callers }, (_, i) => i));
    assert.ok(got.every((r) => r.value.equals(value)));
    assert.ok(got.every((r) => r.partition === kafkaPartitionForKey(r.key!, 8)), 'each record is on its key\'s partition');
    await c.close();
  } finally {
    await bus.close();
  }
});

test('kafka: records of one call timestamped months apart keep their exact timestamps and order', { timeout: 30_000 }, async () => {
  await requireKafka();
  const bus = trackingTopics(await createKafkaBus({ brokers: [TEST_KAFKA] }));
  try {
    const topic = `spread-${randomUUID().slice(0, 8)}`;
    // A retention longer than the spread, so the broker keeps the old record.
    await bus.ensureTopics([{ name: topic, partitions: 1, retentionMs: 3650 * DAY_MS }]);
    const now = Date.now();
    // 90 days apart: past the 2^31 ms that the Kafka library encodes wrongly within one batch.
    const stamps = [now - 90 * DAY_MS + 7, now, now - 45 * DAY_MS + 3];
    await bus.produce(topic, stamps.map((timestamp, i) => ({ key: Buffer.from('k'), value: Buffer.from([i]), timestamp })));
    const c = bus.consumer({ groupId: `g-${randomUUID().slice(0, 8)}`, topics: [topic] });
    const got = await pollUntil(c, stamps.length, 15_000);
    assert.deepEqual(got.map((r) => r.value[0]), [0, 1, 2], 'in the order produced');
    assert.deepEqual(got.map((r) => r.timestamp), stamps);
    await c.close();
  } finally {
    await bus.close();
  }
});
