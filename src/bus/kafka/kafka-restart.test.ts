/**
 * The Kafka bus across a broker outage, on a private broker this test stops and starts
 * (the shared test broker is left alone).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createKafkaBus } from '../index.ts';
import type { ConsumedRecord } from '../index.ts';
import { pollUntil } from '../contract.ts';
import { freeBrokerPort, requireKafka, startPrivateKafka, stopPrivateKafka } from './testing.ts';

const PRODUCE_TIMEOUT_MS = 2_000;

test('kafka: produce rejects while the broker is down, and the same bus and consumer work again once it is back', { timeout: 240_000 }, async () => {
  // The shared broker being up proves `scripts/services` (Java, Kafka jars) works on this machine.
  await requireKafka();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bus-kafka-restart-'));
  const port = await freeBrokerPort();
  await startPrivateKafka(dir, port);
  const bus = await createKafkaBus({ brokers: [`127.0.0.1:${port}`], produceTimeoutMs: PRODUCE_TIMEOUT_MS, connectTimeoutMs: 1_000, operationTimeoutMs: 5_000 });
  try {
    const topic = 'restart';
    await bus.ensureTopics([{ name: topic, partitions: 2, retentionMs: 24 * 60 * 60 * 1000 }]);
    await bus.produce(topic, [{ key: Buffer.from('a'), value: Buffer.from('before') }]);
    const consumer = bus.consumer({ groupId: 'restart-group', topics: [topic] });
    const before = await pollUntil(consumer, 1, 20_000);
    assert.deepEqual(before.map((r) => r.value.toString()), ['before']);
    await consumer.commit([{ topic, partition: before[0].partition, offset: before[0].offset + 1 }]);

    await stopPrivateKafka(dir);
    // Rejects (the gateway answers 503) instead of hanging: bounded well under the test timeout.
    const started = Date.now();
    const outcome = await Promise.race([
      bus.produce(topic, [{ key: Buffer.from('b'), value: Buffer.from('during') }]).then(
        () => 'acknowledged',
        (err: Error) => err,
      ),
      new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 4 * PRODUCE_TIMEOUT_MS).unref()),
    ]);
    assert.ok(outcome instanceof Error, `produce with the broker down was ${String(outcome)} after ${Date.now() - started} ms`);
    assert.match(outcome.message, /did not acknowledge within 2000 ms/);
    // A poll while the broker is down returns (empty) instead of throwing or hanging.
    assert.deepEqual(await consumer.poll({ maxRecords: 10, maxWaitMs: 300 }), []);

    await startPrivateKafka(dir, port);
    // The same bus object recovers by itself: produce succeeds once the broker answers again.
    const deadline = Date.now() + 60_000;
    let produced = false;
    let lastError: Error | null = null;
    while (!produced && Date.now() < deadline) {
      try {
        await bus.produce(topic, [{ key: Buffer.from('c'), value: Buffer.from('after') }]);
        produced = true;
      } catch (err) {
        lastError = err as Error;
      }
    }
    assert.ok(produced, `produce never succeeded after the broker came back: ${lastError?.message}`);

    // The consumer created before the outage resumes after its committed offset.
    const after: ConsumedRecord[] = await pollUntil(consumer, 1, 60_000);
    assert.deepEqual(after.map((r) => r.value.toString()), ['after']);
    assert.deepEqual(await consumer.poll({ maxRecords: 10, maxWaitMs: 500 }), [], 'the rejected record did not land');
    await consumer.close();
  } finally {
    await bus.close();
    await stopPrivateKafka(dir).catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
