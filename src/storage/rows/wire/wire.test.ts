import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Workload } from '../../../demo/index.ts';
import { encodeRequest, type ExportRequestPropertiesBySignal } from '../../../otlp/index.ts';
import { i64, largeTraces, sampleLogs, sampleMetrics, sampleTraces, seededRandom, u64 } from '../../../otlp/fixtures.ts';
import { bytes as wireBytes, fixed64, ld, nestedAnyValue, str, tag, varint, vint } from '../../../otlp/testing.ts';
import type { Signal } from '../../../telemetry/signals.ts';
import { METRIC_TABLES } from '../../schema.ts';
import { isDecodeError, referenceRows, wireRows } from './differential.ts';
import { TextRowSink, WIRE_MAPPERS } from './index.ts';

const TENANT = 'tenant-"1"\\';

function encode<S extends Signal>(signal: S, request: ExportRequestPropertiesBySignal[S]): Buffer {
  return Buffer.from(encodeRequest(signal, request));
}

/** Both accept with the same rows, or both reject (the wire mapper with OtlpDecodeError). */
function assertSame(signal: Signal, bytes: Uint8Array, label: string): boolean {
  const expected = referenceRows(signal, bytes, TENANT);
  const actual = wireRows(signal, bytes, TENANT);
  if (!expected.ok) {
    assert.equal(actual.ok, false, `${label}: the codec rejects (${String(expected.error)}) but the wire mapper accepted`);
    if (!actual.ok) assert.ok(isDecodeError(actual.error), `${label}: expected OtlpDecodeError, got ${String(actual.error)}`);
    return false;
  }
  if (!actual.ok) assert.fail(`${label}: the codec accepts but the wire mapper threw ${String(actual.error)}`);
  assert.deepEqual([...actual.tables.keys()].sort(), [...expected.tables.keys()].sort(), `${label}: tables`);
  for (const [table, rows] of expected.tables) assert.deepStrictEqual(actual.tables.get(table), rows, `${label}: ${table}`);
  assert.equal(actual.rows, expected.rows, `${label}: row count`);
  return true;
}

function baseInputs(): Array<[Signal, Buffer, string]> {
  const inputs: Array<[Signal, Buffer, string]> = [
    ['traces', encode('traces', sampleTraces()), 'sampleTraces'],
    ['logs', encode('logs', sampleLogs()), 'sampleLogs'],
    ['metrics', encode('metrics', sampleMetrics()), 'sampleMetrics'],
    ['traces', encode('traces', largeTraces(120, 3)), 'largeTraces'],
  ];
  for (const seed of [1, 7, 42]) {
    const start = Date.UTC(2025, 0, 2, 3, 4, 5) + seed;
    const w = new Workload({ seed, startMs: start, rate: 50 });
    for (let i = 0; i < 3; i++) {
      const win = w.window(start + i * 1000, start + (i + 1) * 1000);
      inputs.push(['traces', encode('traces', win.traces), `demo ${seed} traces ${i}`]);
      inputs.push(['logs', encode('logs', win.logs), `demo ${seed} logs ${i}`]);
    }
    inputs.push(['metrics', encode('metrics', w.metricsAt(start + 3000).request), `demo ${seed} metrics`]);
  }
  return inputs;
}

test('valid requests: fixtures (every signal, all five point types) and the demo workload give the same rows', () => {
  const tablesSeen = new Set<string>();
  for (const [signal, bytes, label] of baseInputs()) {
    assert.ok(assertSame(signal, bytes, label), `${label} should be valid`);
    const actual = wireRows(signal, bytes, TENANT);
    if (actual.ok) for (const t of actual.tables.keys()) tablesSeen.add(t);
  }
  for (const table of Object.values(METRIC_TABLES)) assert.ok(tablesSeen.has(table), `no input produced ${table} rows`);
});

test('awkward values: escapes, unicode, NaN and infinities, int64 limits, duplicate and __proto__ keys, empty and absent fields', () => {
  const kv = (key: string, value: object) => ({ key, value });
  const attributes = [
    kv('quote"back\\slash', { stringValue: 'tab\tnl\n"q" \u0001 \u2028 é 😀 \\' }),
    kv('dup', { stringValue: 'first' }),
    kv('1', { intValue: i64('9223372036854775807') }),
    kv('min', { intValue: i64('-9223372036854775808') }),
    kv('dup', { intValue: 5 }),
    kv('__proto__', { stringValue: 'dropped by the object mapper' }),
    kv('nan', { doubleValue: NaN }),
    kv('inf', { doubleValue: -Infinity }),
    kv('tiny', { doubleValue: 5e-324 }),
    kv('big', { doubleValue: 1e21 }),
    kv('negzero', { doubleValue: -0 }),
    kv('empty-bytes', { bytesValue: new Uint8Array(0) }),
    kv('no-value', {}),
    kv('arr', { arrayValue: { values: [{ doubleValue: NaN }, {}, { bytesValue: Uint8Array.of(255) }, { kvlistValue: { values: [kv('x', { stringValue: '"' }), { key: 'y' }] } }] } }),
    { key: 'only-key' },
  ];
  const traces = {
    resourceSpans: [
      {
        resource: { attributes: [kv('service.name', { stringValue: '' }), ...attributes] },
        scopeSpans: [
          {
            spans: [
              {
                traceId: Uint8Array.of(1, 2, 3),
                name: 'ü',
                kind: 9,
                startTimeUnixNano: u64('18446744073709551615'),
                endTimeUnixNano: u64('5'),
                attributes,
                status: { code: 7, message: 'bad\u0000' },
                links: [{ spanId: Uint8Array.of(0xab), attributes }, {}],
                events: [{}, { name: 'e', attributes }],
              },
              {},
            ],
          },
        ],
      },
      { resource: { attributes: [kv('service.name', { intValue: 3 })] }, scopeSpans: [{ spans: [{}] }] },
    ],
  };
  assert.ok(assertSame('traces', encode('traces', traces), 'awkward traces'));
  const logs = {
    resourceLogs: [
      {
        schemaUrl: 's"u',
        resource: { attributes },
        scopeLogs: [
          {
            scope: { name: 'n', version: 'v', attributes },
            logRecords: [
              { observedTimeUnixNano: u64('1700000000123456789'), severityNumber: 13, body: { kvlistValue: { values: attributes } } },
              { timeUnixNano: u64('1'), severityNumber: 30, severityText: 'custom', flags: 0x1ff, body: {} },
              { severityNumber: -3, body: { stringValue: 'plain "text"' } },
              { body: { intValue: i64('-1') } },
              {},
            ],
          },
        ],
      },
    ],
  };
  assert.ok(assertSame('logs', encode('logs', logs), 'awkward logs'));
  const point = { attributes, startTimeUnixNano: u64('1'), timeUnixNano: u64('9223372036854775808'), flags: 4294967295 };
  const metrics = {
    resourceMetrics: [
      {
        resource: { attributes },
        scopeMetrics: [
          {
            scope: { name: 'n', droppedAttributesCount: 4294967295 },
            metrics: [
              { name: 'g', gauge: { dataPoints: [{ ...point, asInt: i64('-9007199254740993'), exemplars: [{ asDouble: Infinity, filteredAttributes: attributes }, {}] }, {}] } },
              { name: 's', sum: { aggregationTemporality: -1, isMonotonic: true, dataPoints: [{ ...point, asDouble: NaN }] } },
              { name: 'h', histogram: { dataPoints: [{ ...point, count: u64('18446744073709551615'), sum: -0, bucketCounts: [u64('18446744073709551615'), 0], explicitBounds: [-Infinity, 1.5], min: NaN }, {}] } },
              { name: 'e', exponentialHistogram: { aggregationTemporality: 2, dataPoints: [{ ...point, scale: -20, zeroCount: u64('3'), positive: { offset: -5, bucketCounts: [u64('18446744073709551615'), 1] }, negative: {}, zeroThreshold: NaN }] } },
              { name: 'q', summary: { dataPoints: [{ ...point, quantileValues: [{ quantile: 0.99, value: Infinity }, {}] }] } },
              { name: 'no data' },
            ],
          },
        ],
      },
    ],
  };
  assert.ok(assertSame('metrics', encode('metrics', metrics), 'awkward metrics'));
});

test('protobuf merge semantics: repeated singular messages merge, the last oneof member wins', () => {
  const anyStr = (s: string) => str(1, s);
  // KeyValue with two value fields: array + array merge; string then int -> int.
  const attr = (no: number, key: string, ...values: number[][]) => ld(no, str(1, key), ...values.map((v) => ld(2, v)));
  const arr = (...elems: number[][]) => ld(5, ...elems.map((e) => ld(1, e)));
  const attrs = [
    attr(9, 'a', arr(anyStr('x')), arr(anyStr('y'))),
    attr(9, 'b', anyStr('s'), vint(3, 42)),
    attr(9, 'c', vint(3, 1), arr(anyStr('z'))),
    attr(9, 'd', [...arr(anyStr('p')), ...anyStr('q'), ...arr(anyStr('r'))]),
  ];
  const span = ld(2, fixed64(7), str(5, 'first'), ...attrs, ld(15, vint(3, 2)), str(5, 'second'), ld(15, str(2, 'msg')), fixed64(8));
  const resource = (k: string, v: string) => ld(1, ld(1, str(1, k), ld(2, anyStr(v))));
  const traces = wireBytes(ld(1, ld(2, ld(1, str(1, 'scope-after')), span), resource('service.name', 'svc'), resource('host', 'h')));
  assert.ok(assertSame('traces', Buffer.from(traces), 'merged traces'));
  // Metric: a gauge replaced by a sum (the gauge's points are dropped), the sum's occurrences merged.
  const numberPoint = (v: number) => ld(1, [...tag(4, 1), ...new Uint8Array(Float64Array.of(v).buffer)]);
  const metric = ld(2, str(1, 'm'), ld(5, numberPoint(1)), ld(7, numberPoint(2), vint(2, 1)), ld(7, numberPoint(3), vint(3, 1)), str(3, 'unit'));
  const expPoint = ld(1, ld(8, vint(1, 3), ld(2, varint(5), varint(6))), ld(8, vint(2, 7)), ld(9, vint(1, 1)));
  const metrics = wireBytes(ld(1, ld(2, metric, ld(2, str(1, 'x'), ld(10, expPoint), ld(10, vint(2, 1))))));
  assert.ok(assertSame('metrics', Buffer.from(metrics), 'merged metrics'));
});

test('malformed bytes: OtlpDecodeError, never rows, never a hang', () => {
  const cases: Array<[Signal, number[]]> = [
    ['traces', [0x0a, 0x05, 0x12]],
    ['traces', [...tag(1, 0), 0x80]],
    ['logs', ld(1, ld(2, ld(2, [...tag(1, 2), 3, 0xc3, 0x28, 0x41]))).concat()],
    ['logs', ld(1, ld(2, ld(2, [...tag(3, 2), 2, 0xc3, 0x28]))) /* invalid UTF-8 severity text */],
    ['metrics', ld(1, ld(2, ld(2, ld(9, ld(1, [...tag(6, 2), 3, 1, 2, 3])))))],
    ['traces', ld(1, ld(2, ld(2, ld(9, str(1, 'k'), ld(2, nestedAnyValue(40))))))],
    ['traces', ld(1, ld(2, ld(2, [...tag(5, 0), 1])))],
    ['traces', [...tag(20, 3), ...tag(21, 4)]],
  ];
  for (const [signal, bytes] of cases) {
    const buf = Buffer.from(bytes);
    assert.equal(assertSame(signal, buf, `malformed ${signal} ${buf.toString('hex')}`), false, `${buf.toString('hex')} should be rejected`);
  }
  // Deep but allowed nesting decodes.
  const ok = Buffer.from(ld(1, ld(2, ld(2, ld(9, str(1, 'k'), ld(2, nestedAnyValue(32)))))));
  assert.ok(assertSame('traces', ok, 'nesting at the limit'));
});

test('seeded random mutations of valid requests: same rows or both reject', () => {
  const rand = seededRandom(20250101);
  const inputs = baseInputs().filter((_, i) => i < 4 || i % 3 === 0);
  let accepted = 0;
  let rejected = 0;
  const deadline = Date.now() + 60_000;
  for (const [signal, base, label] of inputs) {
    for (let i = 0; i < 150 && Date.now() < deadline; i++) {
      const b = Buffer.from(base);
      const kind = Math.floor(rand() * 4);
      let mutated: Buffer;
      if (kind === 0) {
        for (let k = 0; k < 1 + Math.floor(rand() * 3); k++) b[Math.floor(rand() * b.length)] ^= 1 << Math.floor(rand() * 8);
        mutated = b;
      } else if (kind === 1) {
        mutated = b.subarray(0, Math.floor(rand() * b.length));
      } else if (kind === 2) {
        b[Math.floor(rand() * b.length)] = Math.floor(rand() * 256);
        mutated = b;
      } else {
        const at = Math.floor(rand() * b.length);
        const junk = Buffer.from(Array.from({ length: 1 + Math.floor(rand() * 4) }, () => Math.floor(rand() * 256)));
        mutated = Buffer.concat([b.subarray(0, at), junk, b.subarray(at)]);
      }
      if (assertSame(signal, mutated, `${label} mutation ${i} (kind ${kind})`)) accepted++;
      else rejected++;
    }
  }
  // Both outcomes must be exercised for the comparison to mean anything.
  assert.ok(accepted > 50 && rejected > 50, `accepted ${accepted}, rejected ${rejected}`);
});

test('a record that fails half-way leaves nothing in the sink; earlier records stay', () => {
  const sink = new TextRowSink();
  const good = encode('traces', sampleTraces());
  const n = WIRE_MAPPERS.traces(good, TENANT, sink);
  assert.ok(n > 0);
  // Valid first resource entry, then a truncated one: rows of the first must not stay.
  const bad = Buffer.concat([good, Buffer.from([0x0a, 0x10, 0x12])]);
  assert.throws(() => WIRE_MAPPERS.traces(bad, TENANT, sink), (e: unknown) => isDecodeError(e));
  assert.equal(sink.rowCount, n);
  const [[, body, count]] = sink.entries();
  assert.equal(count, n);
  assert.equal(body.toString('utf8').split('\n').length, n + 1);
});
