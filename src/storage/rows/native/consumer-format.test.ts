/** The storage consumer end to end in both insert formats: embedded bus -> consumer -> chDB, same rows. */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { createEmbeddedBus, type Bus } from '../../../bus/index.ts';
import { encodeRequest } from '../../../otlp/index.ts';
import { sampleLogs, sampleMetrics, sampleTraces, seededRandom } from '../../../otlp/fixtures.ts';
import { HEADER_TENANT } from '../../../bus/topics.ts';
import { createStorageConsumer } from '../../consumer.ts';
import type { RawFormat, Store } from '../../store.ts';
import { logRecord, metricRecord, traceRecord, waitFor } from '../../test-records.ts';
import { TABLES, openTestStore, storedRows } from './differential.ts';
import { RandomRequests } from './random-requests.ts';

const TOPICS = ['traces', 'metrics', 'logs'] as const;
let store: Store;
let close: () => Promise<void>;
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ollystack-native-consumer-bus-'));
before(async () => {
  ({ store, close } = await openTestStore('ollystack-native-consumer-'));
});
after(async () => {
  await close();
  fs.rmSync(root, { recursive: true, force: true });
});

/** The record values both runs consume (made once: some carry the current time); the tenant goes in each run's headers. */
const RECORDS = ((): Array<[(typeof TOPICS)[number], Buffer]> => {
  const gen = new RandomRequests(seededRandom(7));
  const out: Array<[(typeof TOPICS)[number], Buffer]> = [
    ['traces', traceRecord('-', 0, 30).value],
    ['logs', logRecord('-', 0, 30).value],
    ['metrics', metricRecord('-', 0, 30).value],
    ['traces', Buffer.from(encodeRequest('traces', sampleTraces()))],
    ['logs', Buffer.from(encodeRequest('logs', sampleLogs()))],
    ['metrics', Buffer.from(encodeRequest('metrics', sampleMetrics()))],
  ];
  for (let i = 0; i < 20; i++) {
    out.push(['traces', Buffer.from(encodeRequest('traces', gen.traces()))]);
    out.push(['logs', Buffer.from(encodeRequest('logs', gen.logs()))]);
    out.push(['metrics', Buffer.from(encodeRequest('metrics', gen.metrics()))]);
  }
  return out;
})();

/** Runs a consumer of the format over its own bus until everything is committed. */
async function consumeWith(format: RawFormat, tenant: string, fillers: number): Promise<void> {
  const bus: Bus = await createEmbeddedBus({ dir: path.join(root, format) });
  try {
    await bus.ensureTopics(TOPICS.map((name) => ({ name, partitions: 2, retentionMs: 86_400_000 })));
    // Deduplication tokens name offsets, not buses: records without a tenant (skipped, no rows)
    // move this run's offsets past the other run's, so neither run's blocks look like the other's.
    for (const topic of TOPICS) {
      await bus.produce(topic, Array.from({ length: fillers }, (_, i) => ({ key: Buffer.from(`f${i}`), value: Buffer.alloc(0), headers: {} })));
    }
    let i = 0;
    for (const [topic, value] of RECORDS) await bus.produce(topic, [{ key: Buffer.from(`k${i++}`), value, headers: { [HEADER_TENANT]: tenant } }]);
    // Native is the default: the Native run sets no format.
    const consumer = createStorageConsumer({ bus, store, groupId: 'g', batchMaxRows: 200, batchMaxMs: 20, ...(format === 'Native' ? {} : { insertFormat: format }) });
    consumer.start();
    try {
      await waitFor(
        async () => {
          for (const t of TOPICS) for (const p of await bus.lag('g', t)) if (p.lag > 0) return false;
          return true;
        },
        30_000,
        `the ${format} consumer to drain`,
      );
    } finally {
      await consumer.stop();
    }
  } finally {
    await bus.close();
  }
}

test('the Native consumer (the default format) stores exactly the rows the JSONEachRow consumer stores', async () => {
  await consumeWith('JSONEachRow', 'via-json', 0);
  await consumeWith('Native', 'via-native', 400);
  for (const table of TABLES) {
    const native = await storedRows(store, table, 'via-native');
    assert.ok(native.length > 0, `${table}: nothing stored`);
    assert.deepEqual(native, await storedRows(store, table, 'via-json'), table);
  }
  // Both formats mark each row with its batch's id: never 0, shared by a batch's rows only.
  for (const tenant of ['via-json', 'via-native']) {
    const [trace] = await store.query<{ unmarked: string; batches: string; rows: string }>(
      'SELECT countIf(IngestBatch = 0) AS unmarked, uniqExact(IngestBatch) AS batches, count() AS rows FROM otel_traces WHERE TenantId = {t:String}',
      { t: tenant },
    );
    assert.equal(trace.unmarked, '0', tenant);
    // 20 requests of random spans in batches of at most 200 rows, over 2 partitions.
    assert.ok(Number(trace.batches) >= Math.ceil(Number(trace.rows) / 200), `${tenant}: ${trace.batches} batch ids for ${trace.rows} rows`);
    const [perBatch] = await store.query<{ max: string }>(
      'SELECT max(c) AS max FROM (SELECT count() AS c FROM otel_traces WHERE TenantId = {t:String} GROUP BY IngestBatch)',
      { t: tenant },
    );
    assert.ok(Number(perBatch.max) <= 200 + 100, `${tenant}: a batch id holds ${perBatch.max} rows`);
  }
});
