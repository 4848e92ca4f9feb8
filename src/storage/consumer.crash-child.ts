/**
 * Child process of consumer.crash.test.ts: runs the storage consumer over an existing bus
 * folder until killed; with --drain, runs until the group has no lag, then prints the row
 * counts as JSON and exits. Args: <busDir> <chdbDir> [--drain]
 */
import { createEmbeddedBus } from '../bus/index.ts';
import { createStore } from './clickhouse-store.ts';
import { createStorageConsumer } from './consumer.ts';
import { migrate } from './migrate.ts';
import { LOGS_TABLE, TRACES_TABLE } from './schema.ts';
import { waitFor } from './test-records.ts';

const [busDir, chdbDir, mode] = process.argv.slice(2);
const bus = await createEmbeddedBus({ dir: busDir });
const store = await createStore({ url: `chdb://${chdbDir}` });
await migrate(store, { traces: 7, logs: 7, metrics: 7 });
const consumer = createStorageConsumer({ bus, store, groupId: 'crash', topics: ['traces', 'logs'], batchMaxRows: 40, batchMaxMs: 10, pollMaxRecords: 50 });
consumer.start();
process.stdout.write('ready\n');
if (mode === '--drain') {
  await waitFor(async () => {
    for (const t of ['traces', 'logs']) for (const p of await bus.lag('crash', t)) if (p.lag > 0) return false;
    return true;
  }, 60_000, 'the drain');
  await consumer.stop();
  const out: Record<string, unknown> = {};
  for (const [table, attr] of [[TRACES_TABLE, 'SpanAttributes'], [LOGS_TABLE, 'LogAttributes']]) {
    const [r] = await store.query<{ rows: string; distinct: string }>(`SELECT count() AS rows, uniqExact(${attr}['seq']) AS distinct FROM ${table}`);
    out[table] = { rows: Number(r.rows), distinct: Number(r.distinct) };
  }
  process.stdout.write(JSON.stringify(out) + '\n');
  await store.close();
  await bus.close();
}
