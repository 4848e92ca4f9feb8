import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_MAX_ANY_VALUE_DEPTH, decodeRequest, encodeRequest } from './codec.ts';
import { OtlpDecodeError } from './errors.ts';
import { sampleLogs, sampleMetrics, sampleTraces } from './fixtures.ts';
import { bytesToHex } from './ids.ts';
import { bytes, fixed32, fixed64, ld, nestedAnyValue, str, tag, varint, vint } from './testing.ts';

const SAMPLES = { traces: sampleTraces(), metrics: sampleMetrics(), logs: sampleLogs() } as const;

for (const signal of ['traces', 'metrics', 'logs'] as const) {
  test(`${signal}: proto -> message -> proto gives the same bytes`, () => {
    const wire = encodeRequest(signal, SAMPLES[signal] as never);
    const again = encodeRequest(signal, decodeRequest(signal, wire));
    assert.deepEqual(Buffer.from(again), Buffer.from(wire));
  });
}

test('decoded traces keep ids, 64-bit times, enums, nested attributes', () => {
  const msg = decodeRequest('traces', encodeRequest('traces', sampleTraces()));
  const span = msg.resourceSpans[0].scopeSpans![0].spans![0];
  assert.equal(bytesToHex(span.traceId!), bytesToHex(sampleTraces().resourceSpans![0].scopeSpans![0].spans![0].traceId!));
  assert.equal(String(span.startTimeUnixNano), '1700000000123456789');
  assert.equal(span.kind, 2);
  assert.equal(span.flags, 0x301);
  assert.equal(span.status?.code, 2);
  const count = span.attributes!.find((a) => a.key === 'count')!.value!;
  assert.equal(String(count.intValue), '-9007199254740993');
  const deep = span.attributes!.find((a) => a.key === 'map')!.value!.kvlistValue!.values![1].value!.kvlistValue!.values![0];
  assert.equal(deep.value!.boolValue, true);
});

test('decoded metrics keep all five point types with exemplars, min/max and negative buckets', () => {
  const msg = decodeRequest('metrics', encodeRequest('metrics', sampleMetrics()));
  const [gauge, sum, histogram, exp, summary] = msg.resourceMetrics[0].scopeMetrics![0].metrics!;
  assert.equal(gauge.gauge!.dataPoints![0].asDouble, 3.5);
  assert.equal(String(gauge.gauge!.dataPoints![1].asInt), '-7');
  assert.equal(String(gauge.gauge!.dataPoints![0].exemplars![1].asInt), '-42');
  assert.equal(sum.sum!.isMonotonic, true);
  assert.equal(sum.sum!.aggregationTemporality, 2);
  const h = histogram.histogram!.dataPoints![0];
  assert.equal(h.sum, 0, 'an explicitly present zero sum survives');
  assert.equal(h.min, -3);
  assert.equal(h.max, 99.5);
  assert.deepEqual(h.explicitBounds, [-1.5, 0, 10]);
  assert.deepEqual(h.bucketCounts!.map(String), ['1', '2', '3', '4']);
  assert.equal(histogram.histogram!.dataPoints![1].sum, null, 'an absent optional sum stays absent');
  const e = exp.exponentialHistogram!.dataPoints![0];
  assert.equal(e.scale, -3);
  assert.equal(e.negative!.offset, -4);
  assert.deepEqual(e.negative!.bucketCounts!.map(String), ['7', '18446744073709551615']);
  assert.equal(e.max, 1e300);
  assert.equal(e.zeroThreshold, 1e-9);
  assert.deepEqual(
    summary.summary!.dataPoints![0].quantileValues!.map((q) => [q.quantile, q.value]),
    [[0, 1], [0.5, 3.5], [1, 9]],
  );
});

test('repeated numbers are accepted both packed and unpacked', () => {
  // HistogramDataPoint.bucket_counts (6, fixed64) unpacked: two separate wire-type-1 fields.
  const point = [...fixed64(6), ...fixed64(6)];
  const req = bytes(ld(1, ld(2, ld(2, ld(9, ld(1, point))))));
  const msg = decodeRequest('metrics', req);
  assert.equal(msg.resourceMetrics[0].scopeMetrics![0].metrics![0].histogram!.dataPoints![0].bucketCounts!.length, 2);
});

/** Wraps the bytes of one message at a known depth into a full request. */
const inSpan = (...fields: number[][]) => bytes(ld(1, ld(2, ld(2, ...fields))));
const inLog = (...fields: number[][]) => bytes(ld(1, ld(2, ld(2, ...fields))));
const inHistogramPoint = (...fields: number[][]) => bytes(ld(1, ld(2, ld(2, ld(9, ld(1, ...fields))))));

test('a known field with the wrong wire type is rejected, not silently dropped', () => {
  const cases: [string, 'traces' | 'metrics' | 'logs', Uint8Array][] = [
    ['request field 1 as varint', 'traces', bytes(vint(1, 5))],
    ['Span.name as varint', 'traces', inSpan(vint(5, 1))],
    ['Span.start_time_unix_nano as varint', 'traces', inSpan(vint(7, 1))],
    ['Span.flags as fixed64', 'traces', inSpan(fixed64(16))],
    ['Span.kind as length-delimited', 'traces', inSpan(str(6, 'x'))],
    ['Span.trace_id as fixed32', 'traces', inSpan(fixed32(1))],
    ['Span.attributes as varint', 'traces', inSpan(vint(9, 3))],
    ['LogRecord.body as fixed64', 'logs', inLog(fixed64(5))],
    ['HistogramDataPoint.sum as varint', 'metrics', inHistogramPoint(vint(5, 1))],
    ['HistogramDataPoint.bucket_counts as varint', 'metrics', inHistogramPoint(vint(6, 1))],
  ];
  for (const [name, signal, input] of cases) {
    assert.throws(() => decodeRequest(signal, input), (e: unknown) => e instanceof OtlpDecodeError && /wire type/.test(e.message), name);
  }
});

test('packed runs must divide into whole elements; varint runs must be complete', () => {
  assert.throws(() => decodeRequest('metrics', inHistogramPoint(ld(6, [1, 2, 3, 4, 5, 6, 7]))), /multiple of 8/);
  const expPoint = (buckets: number[]) => bytes(ld(1, ld(2, ld(2, ld(10, ld(1, ld(8, ld(2, buckets))))))));
  assert.equal(decodeRequest('metrics', expPoint([1, 0x80, 1])).resourceMetrics.length, 1);
  assert.throws(() => decodeRequest('metrics', expPoint([1, 0x80])), OtlpDecodeError);
});

test('structural errors: huge lengths, bad varints, field 0, wire types 6/7, stray end-group', () => {
  const bad = [
    bytes([0x0a], varint(2 ** 31)), // length far beyond the input
    bytes([0x0a], varint(0xffffffff), [0, 0, 0]),
    bytes([0x0a, 0x05, 1, 2]), // length past the end
    bytes(tag(30, 0), [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]), // 11-byte varint
    bytes(vint(99, 1), [0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), // truncated tag
    bytes([0x00, 0x00]), // field number 0
    bytes([0x0e]), // wire type 6
    bytes([0x0f]), // wire type 7
    bytes(tag(50, 4)), // end-group with no start
    bytes(tag(50, 3), vint(1, 1)), // unterminated group
    bytes(tag(50, 3), tag(51, 4)), // mismatched group end
  ];
  for (const [i, input] of bad.entries()) {
    for (const signal of ['traces', 'metrics', 'logs'] as const) {
      assert.throws(() => decodeRequest(signal, input), OtlpDecodeError, `case ${i} ${signal}`);
    }
  }
});

test('unknown fields of any wire type (groups included) are skipped', () => {
  const input = bytes(vint(20, 3), fixed64(21), str(22, 'x'), fixed32(23), tag(24, 3), vint(1, 1), tag(24, 4));
  assert.equal(decodeRequest('logs', input).resourceLogs.length, 0);
});

test('invalid UTF-8 in a string field is an OtlpDecodeError', () => {
  assert.throws(() => decodeRequest('traces', inSpan(ld(5, [0xc3, 0x28]))), OtlpDecodeError);
});

test(`AnyValue nesting: ${DEFAULT_MAX_ANY_VALUE_DEPTH} levels pass, one more fails, 100k levels fail fast`, () => {
  const exemplarAttr = (depth: number) =>
    // The deepest place an AnyValue can sit: a histogram exemplar's filtered attribute, nested via kvlist.
    bytes(ld(1, ld(2, ld(2, ld(9, ld(1, ld(8, ld(7, str(1, 'k'), ld(2, nestedKv(depth))))))))));
  const msg = decodeRequest('metrics', exemplarAttr(DEFAULT_MAX_ANY_VALUE_DEPTH));
  assert.equal(msg.resourceMetrics.length, 1);
  assert.throws(() => decodeRequest('metrics', exemplarAttr(DEFAULT_MAX_ANY_VALUE_DEPTH + 1)), /AnyValue nested deeper/);

  const started = performance.now();
  const deep = bytes(ld(1, ld(2, ld(2, ld(5, nestedAnyValue(100_000))))));
  assert.throws(() => decodeRequest('logs', deep), /AnyValue nested deeper/);
  assert.ok(performance.now() - started < 2000);
  const eight = bytes(ld(1, ld(2, ld(2, ld(5, nestedAnyValue(8))))));
  assert.equal(decodeRequest('logs', eight, { maxAnyValueDepth: 8 }).resourceLogs.length, 1);
  assert.throws(() => decodeRequest('logs', eight, { maxAnyValueDepth: 7 }), /AnyValue nested deeper than 7/);
});

/** AnyValue nested `depth` levels through kvlist_value (the costlier path: 3 messages per level). */
function nestedKv(depth: number): number[] {
  let inner = str(1, 'leaf');
  for (let i = 1; i < depth; i++) inner = ld(6, ld(1, str(1, 'k'), ld(2, inner)));
  return inner;
}

test('non-bytes input is an OtlpDecodeError; an unknown signal is a TypeError', () => {
  assert.throws(() => decodeRequest('traces', 'abc' as unknown as Uint8Array), OtlpDecodeError);
  assert.throws(() => decodeRequest('spans' as 'traces', new Uint8Array()), TypeError);
});
