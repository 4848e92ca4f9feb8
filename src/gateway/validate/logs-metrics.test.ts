import assert from 'node:assert/strict';
import { test } from 'node:test';
import { logRequest, metricRequest } from '../../../bench/payloads.ts';
import { configSchema } from '../../config/index.ts';
import { decodeRequest } from '../../otlp/index.ts';
import { validateRequest } from './index.ts';
import { HOUR_MS, LIMITS, NOW_MS, attrs, histogramPoint, id, lenField, logRecord, logs, metrics, nanos, nested, numberPoint } from './testing.ts';

function logOutcome(bad: Record<string, unknown>) {
  const r = validateRequest('logs', logs([logRecord(1), logRecord(2, bad)]), LIMITS, NOW_MS);
  const bodies = decodeRequest('logs', r.payload).resourceLogs.flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords.map((l) => l.body!.stringValue)));
  return { ...r, bodies };
}

function rejectsLog(bad: Record<string, unknown>): string {
  const r = logOutcome(bad);
  assert.equal(r.rejected, 1, r.message);
  assert.deepEqual(r.bodies, ['line 1']);
  return r.message;
}

function acceptsLog(over: Record<string, unknown>): void {
  const r = logOutcome(over);
  assert.equal(r.rejected, 0, r.message);
  assert.equal(r.bodies.length, 2);
}

test('valid logs and metrics come back as the very same bytes', () => {
  const defaults = configSchema.parse({}).gateway.limits;
  for (const [signal, payload, items] of [['logs', logRequest(300), 300], ['metrics', metricRequest(300), 300]] as const) {
    const r = validateRequest(signal, payload, defaults, Date.now());
    assert.equal(r.payload, payload, signal);
    assert.deepEqual({ accepted: r.accepted, rejected: r.rejected, message: r.message }, { accepted: items, rejected: 0, message: '' });
  }
});

test('log records: ids when present must be whole; absent ids are fine', () => {
  acceptsLog({ traceId: id(16, 1), spanId: id(8, 1) });
  acceptsLog({ traceId: Buffer.alloc(0), spanId: Buffer.alloc(0) });
  assert.match(rejectsLog({ traceId: id(15, 1) }), /^rejected 1 log record: 1 with a trace id that is not 16 bytes$/);
  assert.match(rejectsLog({ spanId: id(4, 1) }), /with a span id that is not 8 bytes/);
});

test('log records: time, else observed time, must be in the window; neither is refused', () => {
  acceptsLog({ timeUnixNano: nanos(NOW_MS - 24 * HOUR_MS) });
  assert.match(rejectsLog({ timeUnixNano: nanos(NOW_MS - 24 * HOUR_MS - 1000) }), /timestamped 24 hours in the past/);
  acceptsLog({ timeUnixNano: '0', observedTimeUnixNano: nanos(NOW_MS + 30 * 60_000) });
  assert.match(rejectsLog({ timeUnixNano: '0', observedTimeUnixNano: nanos(NOW_MS + 31 * 60_000) }), /timestamped 31 minutes in the future/);
  assert.match(rejectsLog({ timeUnixNano: '0', observedTimeUnixNano: '0' }), /with no timestamp/);
});

test('log records: attribute count and nesting, of attributes and of the body', () => {
  acceptsLog({ attributes: attrs(8), body: nested(4, 'map') });
  assert.match(rejectsLog({ attributes: attrs(9) }), /with more than 8 attributes/);
  assert.match(rejectsLog({ attributes: [{ key: 'd', value: nested(5) }] }), /with an attribute nested deeper than 4 levels/);
  assert.match(rejectsLog({ body: nested(5, 'map') }), /with a body nested deeper than 4 levels/);
});

function pointsOf(bytes: Uint8Array): string[] {
  return decodeRequest('metrics', bytes).resourceMetrics.flatMap((rm) =>
    rm.scopeMetrics.flatMap((sm) => sm.metrics.flatMap((m) => (m.gauge ?? m.sum ?? m.histogram)!.dataPoints.map((p) => `${m.name}:${String(p.timeUnixNano)}`))),
  );
}

test('number points: no value is rejected unless flagged as having no recorded value; time window and attributes apply', () => {
  const t = (ms: number) => ({ timeUnixNano: nanos(ms) });
  const r = validateRequest(
    'metrics',
    metrics([
      { name: 'g', gauge: { dataPoints: [numberPoint(1), numberPoint(2, { asDouble: undefined }), numberPoint(3, { asDouble: undefined, flags: 1 }), numberPoint(4, { asDouble: undefined, asInt: 7 })] } },
      { name: 's', sum: { aggregationTemporality: 2, isMonotonic: true, dataPoints: [numberPoint(5, t(NOW_MS - 25 * HOUR_MS)), numberPoint(6, { attributes: attrs(9) }), numberPoint(7, t(NOW_MS - HOUR_MS))] } },
    ]),
    LIMITS,
    NOW_MS,
  );
  assert.equal(r.message, 'rejected 3 data points: 1 with no value, 1 timestamped 25 hours in the past (limit 24 hours), 1 with more than 8 attributes');
  assert.deepEqual({ accepted: r.accepted, rejected: r.rejected }, { accepted: 4, rejected: 3 });
  assert.deepEqual(pointsOf(r.payload).map((p) => p.split(':')[0]), ['g', 'g', 'g', 's']);
});

test('histogram points: bucket counts must number one more than the bounds (or both none)', () => {
  const r = validateRequest(
    'metrics',
    metrics([{ name: 'h', histogram: { aggregationTemporality: 2, dataPoints: [histogramPoint(3, 2), histogramPoint(0, 0), histogramPoint(2, 2), histogramPoint(4, 2)] } }]),
    LIMITS,
    NOW_MS,
  );
  assert.equal(r.message, 'rejected 2 data points: 2 whose bucket counts do not number one more than their explicit bounds');
  assert.equal(r.accepted, 2);
});

test('a metric whose every point is rejected is dropped with them; its metadata limits reject all its points', () => {
  const r = validateRequest(
    'metrics',
    metrics([
      { name: 'gone', gauge: { dataPoints: [numberPoint(1, { timeUnixNano: '0' })] } },
      { name: 'meta', metadata: attrs(9), gauge: { dataPoints: [numberPoint(2), numberPoint(3)] } },
      { name: 'kept', gauge: { dataPoints: [numberPoint(4)] } },
    ]),
    LIMITS,
    NOW_MS,
  );
  assert.equal(r.message, 'rejected 3 data points: 2 in a metric with more than 8 metadata attributes, 1 with no timestamp');
  assert.deepEqual(
    decodeRequest('metrics', r.payload).resourceMetrics[0].scopeMetrics[0].metrics.map((m) => m.name),
    ['kept'],
  );
});

test('a metric with two data fields is rejected whole, its points counted as the codec counts them', () => {
  // Hand-built: protobufjs would never encode it (the data fields are a oneof). protobuf merges a
  // repeated member and lets another member replace the earlier one.
  const point = (ms: number) => Buffer.concat([Buffer.from([0x0a, 18, 0x19]), Buffer.from(new BigUint64Array([BigInt(ms) * 1_000_000n]).buffer), Buffer.from([0x21]), Buffer.alloc(8)]);
  const data = (no: number, ...points: Buffer[]) => lenField(no, Buffer.concat(points));
  const request = (...fields: Uint8Array[]) => lenField(1, lenField(2, lenField(2, Buffer.concat([lenField(1, Buffer.from('x')), ...fields]))));
  const kept = metrics([{ name: 'kept', gauge: { dataPoints: [numberPoint(1)] } }]);
  const cases: Array<[string, Uint8Array, number]> = [
    ['gauge, sum', request(data(5, point(NOW_MS), point(NOW_MS)), data(7, point(NOW_MS))), 1],
    ['gauge, gauge', request(data(5, point(NOW_MS)), data(5, point(NOW_MS), point(NOW_MS))), 3],
    ['gauge (one bad point), sum, gauge', request(data(5, point(0)), data(7, point(NOW_MS)), data(5, point(NOW_MS), point(NOW_MS))), 2],
  ];
  for (const [label, bad, points] of cases) {
    assert.equal(countPoints(decodeRequest('metrics', bad)), points, `${label}: the codec's count`);
    const r = validateRequest('metrics', Buffer.concat([bad, kept]), LIMITS, NOW_MS);
    assert.equal(r.message, `rejected ${points} data point${points === 1 ? '' : 's'}: ${points} in a metric with more than one data field (gauge, sum, histogram, exponential_histogram, summary)`, label);
    assert.deepEqual({ accepted: r.accepted, rejected: r.rejected }, { accepted: 1, rejected: points }, label);
    assert.deepEqual(pointsOf(r.payload).map((p) => p.split(':')[0]), ['kept'], label);
  }
});

function countPoints(request: ReturnType<typeof decodeRequest<'metrics'>>): number {
  let n = 0;
  for (const rm of request.resourceMetrics) for (const sm of rm.scopeMetrics) for (const m of sm.metrics) n += (m.gauge ?? m.sum)?.dataPoints.length ?? 0;
  return n;
}
