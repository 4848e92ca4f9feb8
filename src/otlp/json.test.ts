import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeRequest, encodeRequest } from './codec.ts';
import { OtlpDecodeError } from './errors.ts';
import { sampleLogs, sampleMetrics, sampleTraces } from './fixtures.ts';
import { bytesToHex } from './ids.ts';
import { requestFromJson, requestToJson } from './json.ts';

const SAMPLES = { traces: sampleTraces(), metrics: sampleMetrics(), logs: sampleLogs() } as const;
const viaText = (v: unknown) => JSON.parse(JSON.stringify(v)) as unknown;

for (const signal of ['traces', 'metrics', 'logs'] as const) {
  test(`${signal}: JSON -> message -> JSON is deep-equal, and proto <-> JSON keeps every field`, () => {
    const wire = encodeRequest(signal, SAMPLES[signal] as never);
    const json = viaText(requestToJson(signal, decodeRequest(signal, wire)));
    // JSON round trip
    assert.deepEqual(viaText(requestToJson(signal, requestFromJson(signal, json))), json);
    // proto -> JSON -> proto: byte-identical, so no field was lost either way
    assert.deepEqual(Buffer.from(encodeRequest(signal, requestFromJson(signal, json))), Buffer.from(wire));
  });
}

test('JSON output follows the OTLP rules: hex ids, decimal-string 64-bit ints, integer enums, base64 bytes', () => {
  const json = requestToJson('traces', decodeRequest('traces', encodeRequest('traces', sampleTraces()))) as any;
  const span = json.resourceSpans[0].scopeSpans[0].spans[0];
  const source = sampleTraces().resourceSpans![0].scopeSpans![0].spans![0];
  assert.equal(span.traceId, Buffer.from(source.traceId!).toString('hex'));
  assert.equal(span.parentSpanId, Buffer.from(source.parentSpanId!).toString('hex'));
  assert.equal(span.startTimeUnixNano, '1700000000123456789');
  assert.equal(span.kind, 2);
  assert.equal(span.status.code, 2);
  const blob = span.attributes.find((a: any) => a.key === 'blob').value.bytesValue;
  assert.equal(blob, Buffer.from([0, 1, 2, 250, 255]).toString('base64'));
  assert.equal(span.attributes.find((a: any) => a.key === 'zero').value.intValue, '0', 'a set oneof member is written even at its default');
  assert.equal('droppedAttributesCount' in json.resourceSpans[0].scopeSpans[1].spans[0], false, 'defaults are omitted');
  const metrics = requestToJson('metrics', decodeRequest('metrics', encodeRequest('metrics', sampleMetrics()))) as any;
  const exp = metrics.resourceMetrics[0].scopeMetrics[0].metrics[3].exponentialHistogram.dataPoints[0];
  assert.deepEqual(exp.negative, { offset: -4, bucketCounts: ['7', '18446744073709551615'] });
  assert.equal(metrics.resourceMetrics[0].scopeMetrics[0].metrics[2].histogram.dataPoints[0].sum, 0);
});

test('reads a hand-written OTLP/JSON example in spec form', () => {
  const example = {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'my.service' } }] },
        scopeSpans: [
          {
            scope: { name: 'my.library', version: '1.0.0', attributes: [{ key: 'my.scope.attribute', value: { stringValue: 'some scope attribute' } }] },
            spans: [
              {
                traceId: '5B8EFFF798038103D269B633813FC60C',
                spanId: 'EEE19B7EC3C1B174',
                parentSpanId: 'EEE19B7EC3C1B173',
                name: 'I\'m a server span',
                startTimeUnixNano: '1544712660000000000',
                endTimeUnixNano: '1544712661000000000',
                kind: 2,
                attributes: [
                  { key: 'my.span.attr', value: { stringValue: 'some value' } },
                  { key: 'n', value: { intValue: '-12' } },
                  { key: 'd', value: { doubleValue: 1.5 } },
                ],
                status: { code: 1 },
                someFutureField: { ignored: true },
              },
            ],
          },
        ],
      },
    ],
  };
  const msg = requestFromJson('traces', viaText(example));
  const span = msg.resourceSpans[0].scopeSpans![0].spans![0];
  assert.equal(bytesToHex(span.traceId!), '5b8efff798038103d269b633813fc60c');
  assert.equal(bytesToHex(span.spanId!), 'eee19b7ec3c1b174');
  assert.equal(String(span.startTimeUnixNano), '1544712660000000000');
  assert.equal(String(span.endTimeUnixNano), '1544712661000000000');
  assert.equal(span.kind, 2);
  assert.equal(span.status!.code, 1);
  assert.equal(String(span.attributes![1].value!.intValue), '-12');
  // and it survives protobuf
  const back = decodeRequest('traces', encodeRequest('traces', msg));
  assert.equal(back.resourceSpans[0].scopeSpans![0].scope!.attributes![0].value!.stringValue, 'some scope attribute');
});

test('accepts snake_case keys, enum names, int64 as numbers, NaN/Infinity doubles, null as unset', () => {
  const msg = requestFromJson('metrics', {
    resource_metrics: [
      {
        scope_metrics: [
          {
            metrics: [
              {
                name: 'm',
                sum: {
                  data_points: [{ as_int: 42, time_unix_nano: 1700000000000, exemplars: null }],
                  aggregation_temporality: 'AGGREGATION_TEMPORALITY_CUMULATIVE',
                  is_monotonic: true,
                },
              },
              { name: 'g', gauge: { dataPoints: [{ asDouble: 'NaN' }, { asDouble: '-Infinity' }] } },
            ],
          },
        ],
      },
    ],
  });
  const [sum, gauge] = msg.resourceMetrics[0].scopeMetrics![0].metrics!;
  assert.equal(String(sum.sum!.dataPoints![0].asInt), '42');
  assert.equal(String(sum.sum!.dataPoints![0].timeUnixNano), '1700000000000');
  assert.equal(sum.sum!.aggregationTemporality, 2);
  assert.ok(Number.isNaN(gauge.gauge!.dataPoints![0].asDouble));
  assert.equal(gauge.gauge!.dataPoints![1].asDouble, -Infinity);
  const json = requestToJson('metrics', msg) as any;
  assert.equal(json.resourceMetrics[0].scopeMetrics[0].metrics[1].gauge.dataPoints[0].asDouble, 'NaN');
  const logs = requestFromJson('logs', { resourceLogs: [{ scopeLogs: [{ logRecords: [{ severityNumber: 'SEVERITY_NUMBER_WARN', body: { stringValue: 'x' } }] }] }] });
  assert.equal(logs.resourceLogs[0].scopeLogs![0].logRecords![0].severityNumber, 13);
});

test('bad input names the offending path', () => {
  const spanWith = (span: Record<string, unknown>) => ({ resourceSpans: [{ scopeSpans: [{ spans: [span] }] }] });
  const path = 'request.resourceSpans[0].scopeSpans[0].spans[0]';
  const cases: [unknown, RegExp][] = [
    [spanWith({ traceId: 'abc' }), new RegExp(`${escape(path)}\\.traceId.*32 hex digits`)],
    [spanWith({ traceId: 'zz'.repeat(16) }), /traceId: invalid hex/],
    [spanWith({ spanId: 'AAAAAAAAAAAAAAAAAAAAAA==' }), /spanId/],
    [spanWith({ parentSpanId: 12 }), /parentSpanId: expected a hex string/],
    [spanWith({ traceId: 7 }), /traceId/],
    [spanWith({ links: [{ traceId: '00' }] }), /links\[0\]\.traceId/],
    [spanWith({ name: 5 }), /spans\[0\]\.name: expected a string/],
    [spanWith({ startTimeUnixNano: '1.5' }), /startTimeUnixNano: expected an integer/],
    [spanWith({ startTimeUnixNano: '-1' }), /startTimeUnixNano: -1 is out of range/],
    [spanWith({ startTimeUnixNano: '18446744073709551616' }), /out of range/],
    [spanWith({ kind: 'SPAN_KIND_BOGUS' }), /kind: expected an enum/],
    [spanWith({ kind: 1.5 }), /kind: expected an integer/],
    [spanWith({ droppedAttributesCount: -1 }), /droppedAttributesCount/],
    [spanWith({ attributes: {} }), /attributes: expected an array/],
    [spanWith({ attributes: [5] }), /attributes\[0\]: expected a KeyValue object/],
    [spanWith({ attributes: [{ key: 'k', value: { stringValue: 'a', intValue: '1' } }] }), /only one of the "value" fields/],
    [spanWith({ attributes: [{ key: 'k', value: { bytesValue: 'not base64!' } }] }), /bytesValue: invalid base64/],
    [spanWith({ status: [] }), /status: expected a Status object/],
    [{ resourceSpans: 'x' }, /request\.resourceSpans: expected an array/],
    ['just a string', /request: expected/],
    [null, /request: expected/],
    [[1, 2], /request: expected/],
  ];
  for (const [input, pattern] of cases) {
    assert.throws(() => requestFromJson('traces', input), (e: unknown) => e instanceof OtlpDecodeError && pattern.test(e.message), pattern.source);
  }
  const logWith = (record: Record<string, unknown>) => ({ resourceLogs: [{ scopeLogs: [{ logRecords: [record] }] }] });
  assert.throws(() => requestFromJson('logs', logWith({ traceId: 'x'.repeat(32) })), /logRecords\[0\]\.traceId/);
  const exemplarWith = (e: Record<string, unknown>) => ({
    resourceMetrics: [{ scopeMetrics: [{ metrics: [{ gauge: { dataPoints: [{ exemplars: [e] }] } }] }] }],
  });
  assert.throws(() => requestFromJson('metrics', exemplarWith({ spanId: '0011' })), /exemplars\[0\]\.spanId/);
  assert.throws(() => requestFromJson('metrics', exemplarWith({ asDouble: 'one' })), /asDouble: expected a number/);
});

function escape(s: string): string {
  return s.replace(/[.[\]]/g, '\\$&');
}

test('AnyValue nesting in JSON is bounded (100k levels fail fast, without recursion blow-up)', () => {
  let value: Record<string, unknown> = { stringValue: 'leaf' };
  for (let i = 0; i < 100_000; i++) value = { arrayValue: { values: [value] } };
  const started = performance.now();
  assert.throws(
    () => requestFromJson('logs', { resourceLogs: [{ scopeLogs: [{ logRecords: [{ body: value }] }] }] }),
    (e: unknown) => e instanceof OtlpDecodeError && /nested deeper than 32/.test(e.message),
  );
  assert.ok(performance.now() - started < 1000);
  let ok: Record<string, unknown> = { stringValue: 'leaf' };
  for (let i = 1; i < 32; i++) ok = { kvlistValue: { values: [{ key: 'k', value: ok }] } };
  assert.equal(requestFromJson('logs', { resourceLogs: [{ scopeLogs: [{ logRecords: [{ body: ok }] }] }] }).resourceLogs.length, 1);
});
