import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeRequest, encodeRequest, type ExportRequestBySignal } from './codec.ts';
import { OtlpDecodeError } from './errors.ts';
import { largeTraces, sampleLogs, sampleMetrics, sampleTraces } from './fixtures.ts';
import { UNKNOWN_SERVICE, splitByResource } from './route.ts';
import { bytes, countItems, fixed64, ld, str, vint } from './testing.ts';
import type { Signal } from '../telemetry/signals.ts';

type Entry = { resource?: { attributes?: { key?: string | null; value?: { stringValue?: string | null } | null }[] | null } | null };

function entriesOf(signal: Signal, msg: ExportRequestBySignal[Signal]): Entry[] {
  const m = msg as unknown as Record<string, Entry[]>;
  return signal === 'traces' ? m.resourceSpans : signal === 'metrics' ? m.resourceMetrics : m.resourceLogs;
}
function serviceOf(entry: Entry): string {
  const attr = entry.resource?.attributes?.find((a) => a.key === 'service.name');
  return typeof attr?.value?.stringValue === 'string' ? attr.value.stringValue : UNKNOWN_SERVICE;
}
const KEY = { traces: 'resourceSpans', metrics: 'resourceMetrics', logs: 'resourceLogs' } as const;

/** Oracle: group the decoded entries by service and re-encode each group as its own request. */
function expectedParts(signal: Signal, wire: Uint8Array): Map<string, { bytes: Buffer; items: number }> {
  const groups = new Map<string, Entry[]>();
  for (const e of entriesOf(signal, decodeRequest(signal, wire))) {
    const name = serviceOf(e);
    groups.set(name, [...(groups.get(name) ?? []), e]);
  }
  const out = new Map<string, { bytes: Buffer; items: number }>();
  for (const [name, entries] of groups) {
    const req = { [KEY[signal]]: entries } as never;
    out.set(name, { bytes: Buffer.from(encodeRequest(signal, req)), items: countItems(signal, req) });
  }
  return out;
}

const cases: [string, Signal, Uint8Array][] = [
  ['sample traces', 'traces', encodeRequest('traces', sampleTraces())],
  ['sample metrics (all five types)', 'metrics', encodeRequest('metrics', sampleMetrics())],
  ['sample logs (same service twice)', 'logs', encodeRequest('logs', sampleLogs())],
  ['500 spans over 7 services', 'traces', encodeRequest('traces', largeTraces(500, 7))],
];

for (const [name, signal, wire] of cases) {
  test(`${name}: parts match the decoded resources, grouped by service, with item counts`, () => {
    const parts = splitByResource(signal, wire);
    const expected = expectedParts(signal, wire);
    assert.deepEqual(parts.map((p) => p.serviceName).toSorted(), [...expected.keys()].toSorted());
    for (const part of parts) {
      const want = expected.get(part.serviceName)!;
      assert.equal(part.items, want.items, `${part.serviceName} items`);
      // The part is a standalone request, byte-identical to re-encoding that service's entries.
      assert.deepEqual(Buffer.from(encodeRequest(signal, decodeRequest(signal, part.bytes))), want.bytes);
    }
    assert.equal(parts.reduce((n, p) => n + p.items, 0), countItems(signal, decodeRequest(signal, wire)));
  });
}

test('items are counted for each metric point type', () => {
  const msg = sampleMetrics();
  const metrics = msg.resourceMetrics![0].scopeMetrics![0].metrics!;
  for (const metric of metrics) {
    const single = { resourceMetrics: [{ resource: msg.resourceMetrics![0].resource, scopeMetrics: [{ metrics: [metric, metric] }] }] };
    const [part] = splitByResource('metrics', encodeRequest('metrics', single));
    const data = metric.gauge ?? metric.sum ?? metric.histogram ?? metric.exponentialHistogram ?? metric.summary;
    assert.ok(data!.dataPoints!.length > 0);
    assert.equal(part.items, 2 * data!.dataPoints!.length, metric.name!);
    assert.equal(part.serviceName, 'api');
  }
});

test('merges entries of the same service in input order', () => {
  const entry = (service: string, spans: number) => ld(1, ld(1, ld(1, str(1, 'service.name'), ld(2, str(1, service)))), ...Array.from({ length: spans }, () => ld(2, ld(2, str(5, 's')))));
  const wire = bytes(entry('a', 1), entry('b', 2), entry('a', 3), vint(9, 1));
  const parts = splitByResource('traces', wire);
  assert.deepEqual(parts.map((p) => [p.serviceName, p.items]), [['a', 4], ['b', 2]]);
  assert.deepEqual(Buffer.from(parts[0].bytes), Buffer.from(bytes(entry('a', 1), entry('a', 3))));
});

test('service.name: missing, non-string, or later replaced by another type means unknown_service', () => {
  const withValue = (...anyValue: number[][]) => bytes(ld(1, ld(1, ld(1, str(1, 'service.name'), ld(2, ...anyValue)))));
  assert.equal(splitByResource('logs', withValue(vint(3, 5)))[0].serviceName, UNKNOWN_SERVICE);
  assert.equal(splitByResource('logs', withValue(str(1, 'x'), vint(2, 1)))[0].serviceName, UNKNOWN_SERVICE);
  assert.equal(splitByResource('logs', withValue(str(1, 'x')))[0].serviceName, 'x');
  assert.equal(splitByResource('logs', bytes(ld(1, ld(2)))) [0].serviceName, UNKNOWN_SERVICE);
  assert.equal(splitByResource('logs', withValue(str(1, 'résumé-ü')))[0].serviceName, 'résumé-ü');
  assert.deepEqual(splitByResource('logs', new Uint8Array(0)), []);
});

test('rejects malformed structure on the levels it walks', () => {
  const bad: [string, Signal, Uint8Array][] = [
    ['entry as varint', 'traces', bytes(vint(1, 1))],
    ['resource as fixed64', 'traces', bytes(ld(1, fixed64(1)))],
    ['scope entry as varint', 'logs', bytes(ld(1, vint(2, 1)))],
    ['span as varint', 'traces', bytes(ld(1, ld(2, vint(2, 3))))],
    ['attribute as varint', 'traces', bytes(ld(1, ld(1, vint(1, 3))))],
    ['dropped count as LEN', 'traces', bytes(ld(1, ld(1, str(2, 'x'))))],
    ['key as varint', 'traces', bytes(ld(1, ld(1, ld(1, vint(1, 3)))))],
    ['string value as varint', 'traces', bytes(ld(1, ld(1, ld(1, str(1, 'service.name'), ld(2, vint(1, 3))))))],
    ['data points as varint', 'metrics', bytes(ld(1, ld(2, ld(2, ld(5, vint(1, 1))))))],
    ['temporality as LEN', 'metrics', bytes(ld(1, ld(2, ld(2, ld(7, str(2, 'x'))))))],
    ['metric name as varint', 'metrics', bytes(ld(1, ld(2, ld(2, vint(1, 1)))))],
    ['length past end', 'traces', bytes([0x0a, 0x10, 1, 2])],
    ['nested length past parent', 'traces', bytes([0x0a, 0x03, 0x12, 0x05, 0, 0, 0, 0, 0])],
    ['invalid UTF-8 service', 'traces', bytes(ld(1, ld(1, ld(1, str(1, 'service.name'), ld(2, ld(1, [0xff, 0xfe]))))))],
  ];
  for (const [name, signal, input] of bad) {
    assert.throws(() => splitByResource(signal, input), OtlpDecodeError, name);
  }
});
