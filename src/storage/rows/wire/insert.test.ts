import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { encodeRequest } from '../../../otlp/index.ts';
import { sampleLogs, sampleMetrics, sampleTraces } from '../../../otlp/fixtures.ts';
import { createStore } from '../../clickhouse-store.ts';
import { migrate } from '../../migrate.ts';
import { LOGS_TABLE, METRIC_TABLES, TRACES_TABLE } from '../../schema.ts';
import { RECORD_MAPPERS, RowSink } from '../index.ts';
import { TextRowSink, WIRE_MAPPERS } from './index.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ollystack-wire-insert-'));
const store = await createStore({ url: `chdb://${dir}` });
// The fixtures are dated 2023: ten years of retention keeps TTL from dropping them (a century
// would overflow the DateTime the TTL is computed in, and expire everything).
await migrate(store, { traces: 3650, logs: 3650, metrics: 3650 });
after(async () => {
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const TABLES = [TRACES_TABLE, LOGS_TABLE, ...Object.values(METRIC_TABLES)];

async function dump(tenant: string): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const table of TABLES) {
    // Rows dated 1970 (fixtures with no time) are past their TTL and may be dropped at any merge.
    const time = table === TRACES_TABLE || table === LOGS_TABLE ? 'Timestamp' : 'TimeUnix';
    const rows = await store.query(`SELECT * EXCEPT TenantId FROM ${table} WHERE TenantId = {t:String} AND ${time} >= '2000-01-01'`, { t: tenant });
    out[table] = rows.map((r) => JSON.stringify(r)).sort();
  }
  return out;
}

test('insertRaw of wire-mapped text stores exactly what insert of the object rows stores', async () => {
  const requests = [
    ['traces', encodeRequest('traces', sampleTraces())],
    ['logs', encodeRequest('logs', sampleLogs())],
    ['metrics', encodeRequest('metrics', sampleMetrics())],
  ] as const;
  const text = new TextRowSink();
  const objects = new RowSink();
  for (const [signal, bytes] of requests) {
    WIRE_MAPPERS[signal](Buffer.from(bytes), 'wire', text);
    RECORD_MAPPERS[signal](Buffer.from(bytes), 'objects', objects);
  }
  for (const [table, body] of text.entries()) await store.insertRaw!(table, 'JSONEachRow', body, { dedupToken: `wire:${table}` });
  for (const [table, rows] of objects.entries()) await store.insert(table, rows, { dedupToken: `objects:${table}` });
  const viaText = await dump("wire");
  const viaObjects = await dump('objects');
  for (const table of TABLES) assert.ok(viaText[table].length > 0, `${table}: nothing stored`);
  assert.deepStrictEqual(viaText, viaObjects);
});

test('insertRaw honours the dedup token, does not leak it, and rejects bad table names', async () => {
  const sink = new TextRowSink();
  WIRE_MAPPERS.traces(Buffer.from(encodeRequest('traces', sampleTraces())), 'dedup', sink);
  const [[table, body, count]] = sink.entries();
  assert.equal(table, TRACES_TABLE);
  await store.insertRaw!(table, 'JSONEachRow', body, { dedupToken: 'raw-tok' });
  await store.insertRaw!(table, 'JSONEachRow', body, { dedupToken: 'raw-tok' });
  const countRows = async () =>
    Number((await store.query<{ n: string }>(`SELECT count() AS n FROM ${TRACES_TABLE} WHERE TenantId = 'dedup' AND Timestamp >= '2000-01-01'`))[0].n);
  const recent = body.toString('utf8').split('\n').filter((l) => l.includes('"Timestamp":"17')).length;
  assert.ok(recent > 0 && recent <= count);
  assert.equal(await countRows(), recent);
  // Without a token ClickHouse dedups identical blocks by content, so insert different rows.
  const other = new TextRowSink();
  WIRE_MAPPERS.traces(Buffer.from(encodeRequest('traces', sampleTraces())), 'dedup', other);
  await store.insertRaw!(table, 'JSONEachRow', other.entries()[0][1].toString('utf8').replaceAll('"SpanName":"', '"SpanName":"again '));
  assert.equal(await countRows(), 2 * recent);
  await assert.rejects(store.insertRaw!('otel_traces; DROP TABLE x', 'JSONEachRow', body), /table must match/);
});
