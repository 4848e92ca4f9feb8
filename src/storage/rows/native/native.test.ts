import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { encodeRequest } from '../../../otlp/index.ts';
import { payloadFor } from '../../../../bench/payloads.ts';
import { sampleLogs, sampleMetrics, sampleTraces } from '../../../otlp/fixtures.ts';
import type { Signal } from '../../../telemetry/signals.ts';
import { LOGS_TABLE, TRACES_TABLE } from '../../schema.ts';
import type { Store } from '../../store.ts';
import { TextRowSink, WIRE_MAPPERS } from '../wire/index.ts';
import { Differential, TABLES, openTestStore, storedRows } from './differential.ts';
import { NATIVE_MAPPERS, NATIVE_TABLES, NativeRowSink } from './index.ts';

let store: Store;
let close: () => Promise<void>;
before(async () => {
  ({ store, close } = await openTestStore('ollystack-native-'));
});
after(() => close());

test('each encoder declares exactly the columns of its migrated table, with their types', async () => {
  assert.deepEqual([...NATIVE_TABLES.keys()].sort(), [...TABLES].sort());
  for (const [table, create] of NATIVE_TABLES) {
    // Columns with a DEFAULT (otel_logs.TimestampTime) are left to it, as the JSON path does.
    const columns = await store.query<{ name: string; type: string }>(
      `SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = {t:String} AND default_kind = '' ORDER BY position`,
      { t: table },
    );
    const declared = create().columnDefs().map((c) => ({ name: c.name, type: c.type }));
    assert.deepEqual(declared, columns, table);
  }
});

/** An ExportTraceServiceRequest of `n` spans, span i named `${prefix}${i % distinct}`. */
function namedSpans(n: number, distinct: number, prefix: string): Buffer {
  const spans = Array.from({ length: n }, (_, i) => ({ name: `${prefix}${i % distinct}`, kind: 2, attributes: [{ key: `k${i % distinct}`, value: { intValue: i } }] }));
  return Buffer.from(encodeRequest('traces', { resourceSpans: [{ scopeSpans: [{ spans }] }] }));
}

test('LowCardinality dictionaries past 256 and 65536 values (16- and 32-bit indexes) store the same rows', async () => {
  for (const [distinct, label] of [
    [200, 'uint8'],
    [300, 'uint16'],
    [70_000, 'uint32'],
  ] as const) {
    const d = new Differential(label);
    // Split over records so a dictionary grows across them as it does in a batch.
    for (let r = 0; r < 4; r++) assert.ok(d.feed('traces', namedSpans(distinct / 2, distinct / 2, `r${r % 2}-`), `${label} record ${r}`));
    const counts = await d.check(store, label);
    assert.equal(counts.get(TRACES_TABLE), 2 * distinct);
    const names = await store.query<{ n: string }>(`SELECT uniqExact(SpanName) AS n FROM ${TRACES_TABLE} WHERE TenantId = {t:String}`, { t: d.nativeTenant });
    assert.equal(Number(names[0].n), distinct);
  }
});

/** An ExportTraceServiceRequest of `n` resources of one span each: resource i's host, scope name and version `${prefix}${i}`. */
function distinctResources(n: number, prefix: string): Buffer {
  const resourceSpans = Array.from({ length: n }, (_, i) => ({
    resource: { attributes: [{ key: 'service.name', value: { stringValue: 'svc' } }, { key: 'host.name', value: { stringValue: `${prefix}${i}` } }] },
    scopeSpans: [{ scope: { name: `scope-${prefix}${i}`, version: `v-${prefix}${i}` }, spans: [{ name: 'op', kind: 2 }] }],
  }));
  return Buffer.from(encodeRequest('traces', { resourceSpans }));
}

test('resource attribute values, scope names and versions (LowCardinality since migration 5) past 256 and 65536 distinct values store the same rows', async () => {
  for (const [distinct, label] of [
    [200, 'res-uint8'],
    [300, 'res-uint16'],
    [70_000, 'res-uint32'],
  ] as const) {
    const d = new Differential(label);
    // Two records of half the resources each, twice: the dictionaries grow across records.
    for (let r = 0; r < 4; r++) assert.ok(d.feed('traces', distinctResources(distinct / 2, `${label}-${r % 2}-`), `${label} record ${r}`));
    const counts = await d.check(store, label);
    assert.equal(counts.get(TRACES_TABLE), 2 * distinct);
    const [u] = await store.query<{ hosts: string; scopes: string; versions: string }>(
      `SELECT uniqExact(ResourceAttributes['host.name']) AS hosts, uniqExact(ScopeName) AS scopes, uniqExact(ScopeVersion) AS versions FROM ${TRACES_TABLE} WHERE TenantId = {t:String}`,
      { t: d.nativeTenant },
    );
    assert.deepEqual(u, { hosts: String(distinct), scopes: String(distinct), versions: String(distinct) });
  }
});

test('a repeated key keeps its first position and last value even when the map grows the key dictionary on the way', async () => {
  const attributes = [];
  for (let i = 0; i < 150; i++) attributes.push({ key: `key-${i}`, value: { intValue: i } });
  attributes.push({ key: 'key-1', value: { stringValue: 'last' } }, { key: 'key-100', value: { boolValue: true } });
  const d = new Differential('growing-map');
  assert.ok(d.feed('logs', Buffer.from(encodeRequest('logs', { resourceLogs: [{ scopeLogs: [{ logRecords: [{ attributes }] }] }] })), 'growing map'));
  await d.check(store, 'growing-map');
  const [row] = await store.query<{ a: Record<string, string> }>(`SELECT LogAttributes AS a FROM ${LOGS_TABLE} WHERE TenantId = {t:String}`, { t: d.nativeTenant });
  assert.equal(Object.keys(row.a).length, 150);
  assert.equal(row.a['key-1'], 'last');
  assert.equal(row.a['key-100'], 'true');
  assert.equal(row.a['key-2'], '2');
});

test('maps repeating the last map\'s keys, then repeating a key or holding __proto__ part-way, store what the JSON path stores', async () => {
  const kv = (key: string, i: number) => ({ key, value: i % 2 === 0 ? { stringValue: `${key}-${i}` } : { intValue: i } });
  const keysOf = (keys: string[], i: number) => keys.map((key, j) => kv(key, i * 100 + j));
  const many = Array.from({ length: 70 }, (_, i) => `key-${i}`);
  const layouts = [
    ['a', 'b', 'c'],
    ['a', 'b', 'a'],
    ['a', 'b', 'c'],
    ['a', 'b', 'c', 'c'],
    ['a', 'b', 'c'],
    ['a', 'b', '__proto__', 'c'],
    ['a', 'b', 'c'],
    ['b', 'a', 'c', 'b'],
    many,
    many,
    [...many, 'key-3'],
    many,
    [...many.slice(0, 40), '__proto__', ...many.slice(40)],
  ];
  const spans = layouts.map((keys, i) => ({ name: `s${i}`, kind: 2, attributes: keysOf(keys, i) }));
  const d = new Differential('guessed-keys');
  // Twice over: the second record meets guesses the first one left.
  for (let r = 0; r < 2; r++) assert.ok(d.feed('traces', Buffer.from(encodeRequest('traces', { resourceSpans: [{ scopeSpans: [{ spans }] }] })), `record ${r}`));
  const counts = await d.check(store, 'guessed-keys');
  assert.equal(counts.get(TRACES_TABLE), 2 * layouts.length);
});

test('bodies of many small blocks (one every few rows, cut between records) store what the JSON path stores', async () => {
  const d = new Differential('small-blocks', 3);
  const inputs: Array<[Signal, Buffer]> = [
    ['traces', Buffer.from(encodeRequest('traces', sampleTraces()))],
    ['logs', Buffer.from(encodeRequest('logs', sampleLogs()))],
    ['metrics', Buffer.from(encodeRequest('metrics', sampleMetrics()))],
    ['traces', namedSpans(300, 300, 'blocks-')],
  ];
  // Twice over, and a bad record between: a block may be written right before a record that is rolled back.
  for (let r = 0; r < 2; r++) {
    for (const [signal, bytes] of inputs) assert.ok(d.feed(signal, bytes, `${signal} ${r}`));
    assert.equal(d.feed('traces', Buffer.from([0x0a, 0x10, 0x12]), `bad ${r}`), false);
  }
  const counts = await d.check(store, 'small-blocks');
  assert.ok((counts.get(TRACES_TABLE) ?? 0) > 600);
});

test('a record that fails half-way leaves nothing behind; the records around it are stored as the JSON path stores them', async () => {
  const d = new Differential('rollback');
  const good = Buffer.from(encodeRequest('traces', sampleTraces()));
  assert.ok(d.feed('traces', good, 'first'));
  const rowsBefore = d.native.rowCount;
  // A valid first ResourceSpans, then a truncated one: the first one's rows must go too.
  const bad = Buffer.concat([good, Buffer.from([0x0a, 0x10, 0x12])]);
  assert.equal(d.feed('traces', bad, 'half-way'), false);
  assert.equal(d.native.rowCount, rowsBefore);
  assert.ok(d.feed('logs', Buffer.from(encodeRequest('logs', sampleLogs())), 'logs after'));
  // A metrics record failing after its first table got rows leaves that table empty.
  const metrics = Buffer.from(encodeRequest('metrics', sampleMetrics()));
  assert.equal(d.feed('metrics', Buffer.concat([metrics, Buffer.from([0x0a, 0x05, 0x12])]), 'metrics half-way'), false);
  assert.deepEqual(
    d.native.entries().map(([table]) => table),
    [TRACES_TABLE, LOGS_TABLE],
  );
  assert.ok(d.feed('traces', good, 'after'));
  const counts = await d.check(store, 'rollback');
  assert.equal(counts.get(TRACES_TABLE), 2 * rowsBefore);
});

test('insertRaw Native honours the dedup token and rejects unknown formats and bad table names', async () => {
  const sink = new NativeRowSink();
  NATIVE_MAPPERS.logs(Buffer.from(encodeRequest('logs', sampleLogs())), 'dedup-native', sink);
  const [[table, block, rows]] = sink.entries();
  assert.equal(table, LOGS_TABLE);
  await store.insertRaw!(table, 'Native', block, { dedupToken: 'native-tok' });
  await store.insertRaw!(table, 'Native', block, { dedupToken: 'native-tok' });
  assert.equal((await storedRows(store, table, 'dedup-native')).length, rows);
  // A new token stores the block again; an empty body is a no-op.
  await store.insertRaw!(table, 'Native', block, { dedupToken: 'native-tok-2' });
  await store.insertRaw!(table, 'Native', Buffer.alloc(0));
  assert.equal((await storedRows(store, table, 'dedup-native')).length, 2 * rows);
  await assert.rejects(store.insertRaw!(table, 'CSV' as 'Native', block), /insertRaw: format must be one of JSONEachRow, Native/);
  await assert.rejects(store.insertRaw!('otel_logs; DROP TABLE x', 'Native', block), /table must match/);
});

test('insertRaw takes a body as chunks cut anywhere, and stores what the whole body stores', async () => {
  const bytes = Buffer.from(payloadFor('traces', 300, 5));
  const body = (tenant: string) => {
    const sink = new NativeRowSink();
    NATIVE_MAPPERS.traces(bytes, tenant, sink);
    return Buffer.concat(sink.entries()[0][1]);
  };
  await store.insertRaw!(TRACES_TABLE, 'Native', body('chunks-whole'));
  const cut = body('chunks-cut');
  // Cuts inside the block header, inside values, and one empty chunk.
  const at = [1, 2, 9, 9, 1000, 1001, Math.floor(cut.length / 2), cut.length - 1];
  const chunks = at.map((end, i) => cut.subarray(i === 0 ? 0 : at[i - 1], end)).concat(cut.subarray(at[at.length - 1]));
  await store.insertRaw!(TRACES_TABLE, 'Native', chunks);
  const whole = await storedRows(store, TRACES_TABLE, 'chunks-whole');
  assert.equal(whole.length, 300);
  assert.deepEqual(await storedRows(store, TRACES_TABLE, 'chunks-cut'), whole);
});

test('a negative SeverityNumber is stored as its low byte (the JSONEachRow path cannot insert it at all)', async () => {
  const bytes = Buffer.from(encodeRequest('logs', { resourceLogs: [{ scopeLogs: [{ logRecords: [{ severityNumber: -3 as never, body: { stringValue: 'x' } }, { severityNumber: 300 as never }] }] }] }));
  const native = new NativeRowSink();
  NATIVE_MAPPERS.logs(bytes, 'negative-severity', native);
  for (const [table, block] of native.entries()) await store.insertRaw!(table, 'Native', block);
  const rows = await store.query<{ n: number; t: string }>(
    `SELECT SeverityNumber AS n, SeverityText AS t FROM ${LOGS_TABLE} WHERE TenantId = 'negative-severity' ORDER BY n`,
  );
  assert.deepEqual(rows, [
    { n: 44, t: '' },
    { n: 253, t: '' },
  ]);
  const json = new TextRowSink();
  WIRE_MAPPERS.logs(bytes, 'negative-severity-json', json);
  await assert.rejects(store.insertRaw!(LOGS_TABLE, 'JSONEachRow', json.entries()[0][1]), /Unsigned type must not contain '-'/);
});
