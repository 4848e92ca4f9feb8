/** The replayable groups: `ollystack replay --group metering` runs the metering consumer. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createEmbeddedBus, HEADER_ITEMS, HEADER_SIGNAL, HEADER_TENANT } from '../bus/index.ts';
import { loadConfig } from '../config/index.ts';
import { createUsageReader } from '../metering/index.ts';
import { createLogger, createRegistry } from '../selfobs/index.ts';
import { createStore, migrate } from '../storage/index.ts';
import { METERING_GROUP, REPLAYABLE_GROUPS, startGroupConsumer } from './components.ts';

test('the metering group is replayable: startGroupConsumer runs the metering consumer, which makes its table and counts', async () => {
  assert.ok((REPLAYABLE_GROUPS as readonly string[]).includes(METERING_GROUP));
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ollystack-group-consumer-'));
  const bus = await createEmbeddedBus({ dir: path.join(root, 'bus') });
  const store = await createStore({ url: `chdb://${path.join(root, 'chdb')}` });
  try {
    await migrate(store, { traces: 7, logs: 7, metrics: 7 });
    await bus.ensureTopics([{ name: 'logs', partitions: 2, retentionMs: 86_400_000 }]);
    const hour = Date.UTC(2026, 10, 27, 10, 0, 0);
    await bus.produce(
      'logs',
      Array.from({ length: 10 }, (_, i) => ({
        key: Buffer.from(`k${i}`),
        value: Buffer.alloc(20),
        timestamp: hour + i,
        headers: { [HEADER_TENANT]: 'g-tenant', [HEADER_SIGNAL]: 'logs', [HEADER_ITEMS]: '3' },
      })),
    );
    const config = loadConfig({ env: {}, overrides: { dataDir: root } });
    const running = await startGroupConsumer(METERING_GROUP, { config, bus, store, logger: createLogger('warn'), registry: createRegistry() });
    try {
      const deadline = Date.now() + 30_000;
      while ((await bus.lag(METERING_GROUP, 'logs')).some((p) => p.lag > 0)) {
        if (Date.now() > deadline) throw new Error('timed out waiting for the metering group to commit everything');
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      await running.close();
    }
    assert.deepEqual(await createUsageReader(store).usage('g-tenant', hour, hour + 3_600_000), [{ tenant: 'g-tenant', hour, signal: 'logs', events: 30, bytes: 200 }]);
  } finally {
    await bus.close();
    await store.close();
    fs.rmSync(root, { recursive: true, force: true });
  }
});
