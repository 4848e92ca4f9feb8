/**
 * Row mapping against the real schema: requests are built with the generated code, encoded
 * and decoded as the bus carries them, mapped, inserted into chDB and read back.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { opentelemetry } from '../../otlp/index.ts';
import { createStore } from '../clickhouse-store.ts';
import { migrate } from '../migrate.ts';
import { LOGS_TABLE, METRIC_TABLES, TRACES_TABLE } from '../schema.ts';
import type { Store } from '../store.ts';
import { RECORD_MAPPERS, RowSink, mapLogs, mapMetrics, mapTraces, METRIC_ROW_TABLES } from './index.ts';

const collector = opentelemetry.proto.collector;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ollystack-rows-'));
let store: Store;
before(async () => {
  store = await createStore({ url: `chdb://${dir}` });
  await migrate(store, { traces: 30, logs: 30, metrics: 30 });
});
after(async () => {
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const b64 = (hex: string) => Buffer.from(hex, 'hex').toString('base64');
const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const SPAN_ID = 'b7ad6b7169203331';
const PARENT_ID = '00f067aa0ba902b7';
// Recent (older rows would fall to the tables' TTL on insert), with every nanosecond digit significant.
const NOW_SECS = Math.floor(Date.now() / 1000) - 3600;
const NOW_NS = `${NOW_SECS}123456789`;
const END_NS = (BigInt(NOW_NS) + 864197532n).toString();
const INT64_MAX = '9223372036854775807';
const INT64_MIN = '-9223372036854775808';
const UINT64_MAX = '18446744073709551615';

function attrs(obj: Record<string, unknown>) {
  return Object.entries(obj).map(([key, value]) => ({ key, value }));
}

const ALL_TYPES = attrs({
  s: { stringValue: 'text' },
  b: { boolValue: true },
  imax: { intValue: INT64_MAX },
  imin: { intValue: INT64_MIN },
  d: { doubleValue: 0.1 },
  bytes: { bytesValue: b64('deadbeef') },
  arr: { arrayValue: { values: [{ stringValue: 'x' }, { intValue: 1 }] } },
  kv: { kvlistValue: { values: [{ key: 'k', value: { boolValue: false } }] } },
});
const ALL_TYPES_FLAT = {
  s: 'text',
  b: 'true',
  imax: INT64_MAX,
  imin: INT64_MIN,
  d: '0.1',
  bytes: Buffer.from('deadbeef', 'hex').toString('base64'),
  arr: '["x",1]',
  kv: '{"k":false}',
};

/** Encodes then decodes, so mapping sees exactly what the consumer sees (Longs, Buffers). */
function roundTrip<T>(type: { fromObject(o: object): T; encode(m: T): { finish(): Uint8Array }; decode(b: Uint8Array): T }, obj: object): T {
  return type.decode(type.encode(type.fromObject(obj)).finish());
}

test('traces map to otel_traces with exact ids, times, durations and attributes', async () => {
  const Req = collector.trace.v1.ExportTraceServiceRequest;
  const req = roundTrip(Req, {
    resourceSpans: [
      {
        resource: { attributes: attrs({ 'service.name': { stringValue: 'checkout' }, 'host.name': { stringValue: 'h1' } }) },
        scopeSpans: [
          {
            scope: { name: 'lib', version: '1.2.3' },
            spans: [
              {
                traceId: b64(TRACE_ID),
                spanId: b64(SPAN_ID),
                parentSpanId: b64(PARENT_ID),
                traceState: 'a=b',
                name: 'GET /cart',
                kind: 2,
                startTimeUnixNano: NOW_NS,
                endTimeUnixNano: END_NS,
                attributes: ALL_TYPES,
                status: { code: 2, message: 'boom' },
                events: [{ timeUnixNano: END_NS, name: 'exception', attributes: attrs({ 'exception.type': { stringValue: 'E' } }) }],
                links: [{ traceId: b64(TRACE_ID), spanId: b64(PARENT_ID), traceState: 'x=y', attributes: attrs({ l: { intValue: 5 } }) }],
              },
            ],
          },
        ],
      },
      {
        resource: { attributes: [] },
        scopeSpans: [{ spans: [{ traceId: b64(TRACE_ID), spanId: b64('0000000000000001'), name: 'neg', kind: 5, startTimeUnixNano: END_NS, endTimeUnixNano: NOW_NS }] }],
      },
    ],
  });
  const rows = mapTraces(req, 'tenant-a');
  assert.equal(rows.length, 2);
  await store.insert(TRACES_TABLE, rows);
  const back = await store.query<Record<string, unknown>>(
    `SELECT TenantId, toString(toUnixTimestamp64Nano(Timestamp)) AS ts, TraceId, SpanId, ParentSpanId, TraceState, SpanName, SpanKind, ServiceName,
            ResourceAttributes, ScopeName, ScopeVersion, SpanAttributes, toString(Duration) AS dur, StatusCode, StatusMessage,
            arrayMap(t -> toString(toUnixTimestamp64Nano(t)), Events.Timestamp) AS evTs, Events.Name AS evName, Events.Attributes AS evAttrs,
            Links.TraceId AS lTrace, Links.SpanId AS lSpan, Links.TraceState AS lState, Links.Attributes AS lAttrs
     FROM ${TRACES_TABLE} WHERE TenantId = {t:String} ORDER BY SpanName`,
    { t: 'tenant-a' },
  );
  assert.deepEqual(back[0], {
    TenantId: 'tenant-a',
    ts: NOW_NS,
    TraceId: TRACE_ID,
    SpanId: SPAN_ID,
    ParentSpanId: PARENT_ID,
    TraceState: 'a=b',
    SpanName: 'GET /cart',
    SpanKind: 'Server',
    ServiceName: 'checkout',
    ResourceAttributes: { 'service.name': 'checkout', 'host.name': 'h1' },
    ScopeName: 'lib',
    ScopeVersion: '1.2.3',
    SpanAttributes: ALL_TYPES_FLAT,
    dur: (BigInt(END_NS) - BigInt(NOW_NS)).toString(),
    StatusCode: 'Error',
    StatusMessage: 'boom',
    evTs: [END_NS],
    evName: ['exception'],
    evAttrs: [{ 'exception.type': 'E' }],
    lTrace: [TRACE_ID],
    lSpan: [PARENT_ID],
    lState: ['x=y'],
    lAttrs: [{ l: '5' }],
  });
  assert.equal(back[1].SpanName, 'neg');
  assert.equal(back[1].dur, '0');
  assert.equal(back[1].SpanKind, 'Consumer');
  assert.equal(back[1].StatusCode, 'Unset');
  assert.equal(back[1].ServiceName, 'unknown_service');
  assert.equal(back[1].ParentSpanId, '');
});

test('logs map to otel_logs: severity, body, timestamp fallback, trace context', async () => {
  const Req = collector.logs.v1.ExportLogsServiceRequest;
  const req = roundTrip(Req, {
    resourceLogs: [
      {
        resource: { attributes: attrs({ 'service.name': { stringValue: 'api' } }) },
        schemaUrl: 'https://res',
        scopeLogs: [
          {
            scope: { name: 'logger', version: '9', attributes: attrs({ sa: { stringValue: 'sv' } }) },
            schemaUrl: 'https://scope',
            logRecords: [
              { timeUnixNano: NOW_NS, severityNumber: 17, body: { stringValue: 'plain text' }, attributes: ALL_TYPES, traceId: b64(TRACE_ID), spanId: b64(SPAN_ID), flags: 0x101, eventName: 'ev' },
              { observedTimeUnixNano: END_NS, severityNumber: 10, severityText: 'Information', body: { kvlistValue: { values: [{ key: 'n', value: { intValue: INT64_MAX } }] } } },
              { timeUnixNano: NOW_NS, severityNumber: 3, body: { arrayValue: { values: [{ doubleValue: 1.5 }] } } },
            ],
          },
        ],
      },
    ],
  });
  const rows = mapLogs(req, 'tenant-l');
  await store.insert(LOGS_TABLE, rows);
  const back = await store.query<Record<string, unknown>>(
    `SELECT toString(toUnixTimestamp64Nano(Timestamp)) AS ts, toUnixTimestamp(TimestampTime) AS tt, TraceId, SpanId, TraceFlags, SeverityText, SeverityNumber,
            ServiceName, Body, EventName, ResourceSchemaUrl, ScopeSchemaUrl, ScopeName, ScopeVersion, ScopeAttributes, LogAttributes
     FROM ${LOGS_TABLE} WHERE TenantId = 'tenant-l' ORDER BY SeverityNumber`,
  );
  assert.equal(back.length, 3);
  const [trace, info, error] = back;
  assert.equal(trace.SeverityText, 'TRACE');
  assert.equal(trace.Body, '[1.5]');
  assert.equal(info.SeverityText, 'Information');
  assert.equal(info.ts, END_NS);
  assert.deepEqual(JSON.parse(info.Body as string), { n: Number(INT64_MAX) });
  assert.match(info.Body as string, new RegExp(INT64_MAX));
  assert.deepEqual(error, {
    ts: NOW_NS,
    tt: NOW_SECS,
    TraceId: TRACE_ID,
    SpanId: SPAN_ID,
    TraceFlags: 1,
    SeverityText: 'ERROR',
    SeverityNumber: 17,
    ServiceName: 'api',
    Body: 'plain text',
    EventName: 'ev',
    ResourceSchemaUrl: 'https://res',
    ScopeSchemaUrl: 'https://scope',
    ScopeName: 'logger',
    ScopeVersion: '9',
    ScopeAttributes: { sa: 'sv' },
    LogAttributes: ALL_TYPES_FLAT,
  });
});

test('all five metric types map to their tables with exemplars and 64-bit counts', async () => {
  const Req = collector.metrics.v1.ExportMetricsServiceRequest;
  const exemplar = { timeUnixNano: NOW_NS, asInt: '42', spanId: b64(SPAN_ID), traceId: b64(TRACE_ID), filteredAttributes: attrs({ f: { stringValue: 'v' } }) };
  const point = { attributes: attrs({ p: { stringValue: 'q' } }), startTimeUnixNano: NOW_NS, timeUnixNano: END_NS };
  const req = roundTrip(Req, {
    resourceMetrics: [
      {
        resource: { attributes: attrs({ 'service.name': { stringValue: 'svc' } }) },
        schemaUrl: 'r',
        scopeMetrics: [
          {
            scope: { name: 'meter', version: '2', droppedAttributesCount: 3 },
            schemaUrl: 's',
            metrics: [
              { name: 'g', unit: '1', description: 'gauge', gauge: { dataPoints: [{ ...point, asDouble: 2.5, flags: 1, exemplars: [exemplar] }, { ...point, asInt: INT64_MIN }] } },
              { name: 'c', sum: { aggregationTemporality: 2, isMonotonic: true, dataPoints: [{ ...point, asInt: '12345' }] } },
              {
                name: 'h',
                histogram: {
                  aggregationTemporality: 1,
                  dataPoints: [{ ...point, count: UINT64_MAX, sum: 10.5, bucketCounts: ['1', UINT64_MAX], explicitBounds: [0.5], min: 0.1, max: 9, exemplars: [{ ...exemplar, asInt: undefined, asDouble: 0.25 }] }],
                },
              },
              {
                name: 'e',
                exponentialHistogram: {
                  aggregationTemporality: 2,
                  dataPoints: [{ ...point, count: '7', sum: 3, scale: -2, zeroCount: '1', zeroThreshold: 0.001, positive: { offset: -3, bucketCounts: ['2', '3'] }, negative: { offset: 4, bucketCounts: ['1'] }, min: -1, max: 5 }],
                },
              },
              { name: 's', summary: { dataPoints: [{ ...point, count: '4', sum: 8, quantileValues: [{ quantile: 0.5, value: 2 }, { quantile: 0.99, value: 3.5 }] }] } },
            ],
          },
        ],
      },
    ],
  });
  const rows = mapMetrics(req, 'tenant-m');
  assert.deepEqual(
    METRIC_ROW_TABLES.map(([k]) => rows[k].length),
    [2, 1, 1, 1, 1],
  );
  for (const [key, table] of METRIC_ROW_TABLES) await store.insert(table, rows[key]);

  const common = `TenantId, ServiceName, MetricName, MetricUnit, MetricDescription, Attributes, ResourceSchemaUrl, ScopeSchemaUrl, ScopeName, ScopeVersion, ScopeDroppedAttrCount,
    toString(toUnixTimestamp64Nano(StartTimeUnix)) AS st, toString(toUnixTimestamp64Nano(TimeUnix)) AS t`;
  const ex = `Exemplars.FilteredAttributes AS exA, arrayMap(x -> toString(toUnixTimestamp64Nano(x)), Exemplars.TimeUnix) AS exT, Exemplars.Value AS exV, Exemplars.SpanId AS exS, Exemplars.TraceId AS exTr`;
  const gauges = await store.query<Record<string, unknown>>(`SELECT ${common}, Value, Flags, ${ex} FROM ${METRIC_TABLES.gauge} ORDER BY Value DESC`);
  assert.deepEqual(gauges[0], {
    TenantId: 'tenant-m', ServiceName: 'svc', MetricName: 'g', MetricUnit: '1', MetricDescription: 'gauge', Attributes: { p: 'q' },
    ResourceSchemaUrl: 'r', ScopeSchemaUrl: 's', ScopeName: 'meter', ScopeVersion: '2', ScopeDroppedAttrCount: 3,
    st: NOW_NS, t: END_NS, Value: 2.5, Flags: 1,
    exA: [{ f: 'v' }], exT: [NOW_NS], exV: [42], exS: [SPAN_ID], exTr: [TRACE_ID],
  });
  assert.equal(gauges[1].Value, Number(INT64_MIN));
  assert.deepEqual(gauges[1].exV, []);

  const sums = await store.query<Record<string, unknown>>(`SELECT Value, AggregationTemporality, IsMonotonic FROM ${METRIC_TABLES.sum}`);
  assert.deepEqual(sums, [{ Value: 12345, AggregationTemporality: 2, IsMonotonic: true }]);

  const hist = await store.query<Record<string, unknown>>(`SELECT toString(Count) AS c, Sum, arrayMap(x -> toString(x), BucketCounts) AS bc, ExplicitBounds, Min, Max, AggregationTemporality AS at, Exemplars.Value AS exV FROM ${METRIC_TABLES.histogram}`);
  assert.deepEqual(hist, [{ c: UINT64_MAX, Sum: 10.5, bc: ['1', UINT64_MAX], ExplicitBounds: [0.5], Min: 0.1, Max: 9, at: 1, exV: [0.25] }]);

  const exp = await store.query<Record<string, unknown>>(
    `SELECT toString(Count) AS c, Sum, Scale, toString(ZeroCount) AS z, ZeroThreshold, PositiveOffset, arrayMap(x -> toString(x), PositiveBucketCounts) AS pb,
            NegativeOffset, arrayMap(x -> toString(x), NegativeBucketCounts) AS nb, Min, Max, AggregationTemporality AS at FROM ${METRIC_TABLES.exponentialHistogram}`,
  );
  assert.deepEqual(exp, [{ c: '7', Sum: 3, Scale: -2, z: '1', ZeroThreshold: 0.001, PositiveOffset: -3, pb: ['2', '3'], NegativeOffset: 4, nb: ['1'], Min: -1, Max: 5, at: 2 }]);

  const sum = await store.query<Record<string, unknown>>(`SELECT toString(Count) AS c, Sum, ValueAtQuantiles.Quantile AS q, ValueAtQuantiles.Value AS v, st, t FROM (SELECT *, ${common} FROM ${METRIC_TABLES.summary})`);
  assert.deepEqual(sum, [{ c: '4', Sum: 8, q: [0.5, 0.99], v: [2, 3.5], st: NOW_NS, t: END_NS }]);
});

test('non-finite doubles are stored as ClickHouse nan/inf', async () => {
  const rows = mapMetrics(
    collector.metrics.v1.ExportMetricsServiceRequest.fromObject({
      resourceMetrics: [{ scopeMetrics: [{ metrics: [{ name: 'nf', gauge: { dataPoints: [{ asDouble: NaN, timeUnixNano: NOW_NS }, { asDouble: -Infinity, timeUnixNano: NOW_NS }] } }] }] }],
    }),
    'tenant-nf',
  );
  await store.insert(METRIC_TABLES.gauge, rows.gauge);
  const back = await store.query<{ v: string }>(`SELECT toString(Value) AS v FROM ${METRIC_TABLES.gauge} WHERE TenantId = 'tenant-nf' ORDER BY v`);
  assert.deepEqual(back.map((r) => r.v).sort(), ['-inf', 'nan']);
});

test('record mappers decode bus bytes into the sink and reject garbage', () => {
  const bytes = collector.logs.v1.ExportLogsServiceRequest.encode(
    collector.logs.v1.ExportLogsServiceRequest.fromObject({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ body: { stringValue: 'a' } }, { body: { stringValue: 'b' } }] }] }] }),
  ).finish();
  const sink = new RowSink();
  assert.equal(RECORD_MAPPERS.logs(bytes, 't', sink), 2);
  assert.equal(sink.rowCount, 2);
  assert.deepEqual([...sink.entries()].map(([t, r]) => [t, r.length]), [[LOGS_TABLE, 2]]);
  assert.throws(() => RECORD_MAPPERS.traces(Buffer.from([0x0a, 0xff, 0xff, 0xff]), 't', new RowSink()));
});
