/** How many partitions the stack's topics get: one on the embedded bus, 32 on Kafka, unless set. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createEmbeddedBus } from '../bus/index.ts';
import { loadConfig } from '../config/index.ts';
import { createLogger } from '../selfobs/index.ts';
import { busPartitions, openBus } from './backends.ts';

test('partitions per topic: 1 on the embedded bus and 32 on Kafka by default; bus.partitions wins', () => {
  assert.equal(busPartitions(loadConfig({ env: {} })), 1);
  assert.equal(busPartitions(loadConfig({ env: { OLLYSTACK_BUS__URL: 'kafka://127.0.0.1:9092' } })), 32);
  assert.equal(busPartitions(loadConfig({ env: { OLLYSTACK_BUS__PARTITIONS: '6' } })), 6);
});

test('a new data folder gets one-partition topics; a folder made with more partitions keeps them', async () => {
  const fresh = fs.mkdtempSync(path.join(os.tmpdir(), 'ollystack-backends-'));
  const older = fs.mkdtempSync(path.join(os.tmpdir(), 'ollystack-backends-'));
  try {
    const bus = await openBus(loadConfig({ env: { OLLYSTACK_DATA_DIR: fresh } }), createLogger('silent'), 'test');
    for (const topic of ['traces', 'logs', 'metrics', 'alerts']) assert.equal((await bus.lag('g', topic)).length, 1, topic);
    await bus.close();

    // An earlier version's default: 4 partitions per topic.
    const made = await createEmbeddedBus({ dir: path.join(older, 'bus') });
    await made.ensureTopics([{ name: 'traces', partitions: 4, retentionMs: 3 * 86_400_000 }]);
    await made.close();
    const reopened = await openBus(loadConfig({ env: { OLLYSTACK_DATA_DIR: older } }), createLogger('silent'), 'test');
    assert.equal((await reopened.lag('g', 'traces')).length, 4);
    assert.equal((await reopened.lag('g', 'logs')).length, 1);
    await reopened.close();
  } finally {
    fs.rmSync(fresh, { recursive: true, force: true });
    fs.rmSync(older, { recursive: true, force: true });
  }
});
