import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeRequest, encodeRequest } from '../../otlp/index.ts';
import type { Telemetry } from '../types.ts';
import { ADJUSTED_COUNT_ATTRIBUTE, createTraceSampler, traceRandomness } from './index.ts';
import {
  Collector,
  FakeClock,
  attribute,
  hexId,
  makeSpan,
  randomTraceId,
  seededRandom,
  sendSteadyTraffic,
  testSampler,
  traceBatch,
} from './testing.ts';

const TWO_56 = 2n ** 56n;

/** The threshold recorded in a span's tracestate (`ot=th:`), or undefined. */
function thresholdOf(traceState: string | null | undefined): bigint | undefined {
  const match = /(?:^|,)ot=(?:[^,]*;)?th:([0-9a-f]{1,14})/.exec(traceState ?? '');
  return match ? BigInt('0x' + match[1].padEnd(14, '0')) : undefined;
}

test('non-trace batches pass straight through, and a refusal reaches the caller', async () => {
  const clock = new FakeClock();
  const next = new Collector(clock);
  const sampler = testSampler(clock, next);
  const logs: Telemetry = { signal: 'logs', request: { resourceLogs: [] }, items: 0, checkpoint: { source: 'filelog', state: '{}' } };
  await sampler.consume(logs);
  assert.equal(next.batches[0], logs);
  next.refuse = true;
  await assert.rejects(sampler.consume({ signal: 'metrics', request: { resourceMetrics: [] }, items: 0 }), /downstream is down/);
  await sampler.stop();
});

test('traces are held for decisionWaitMs after their first span, then decided whole', async () => {
  const clock = new FakeClock();
  const next = new Collector(clock);
  const sampler = testSampler(clock, next, { decisionWaitMs: 5000 });
  const traceId = randomTraceId(seededRandom(1));
  await sampler.consume(traceBatch([{ service: 'web', spans: [makeSpan({ traceId })] }]));
  clock.advance(4000);
  await sampler.consume(traceBatch([{ service: 'db', spans: [makeSpan({ traceId })] }]));
  await sampler.tick();
  assert.equal(next.emitted.length, 0);
  assert.equal(sampler.stats().bufferedSpans, 2);
  clock.advance(1000);
  await sampler.tick();
  // No traffic estimate yet, so p = 1: kept, with both spans.
  assert.deepEqual(
    next.emitted.map((e) => e.service),
    ['web', 'db'],
  );
  assert.equal(attribute(next.emitted[0].span, ADJUSTED_COUNT_ATTRIBUTE), 1);
  assert.equal(sampler.stats().bufferedSpans, 0);
  await sampler.stop();
});

test('error and slow traces are always kept, whole, even at a tiny probability', async () => {
  const clock = new FakeClock();
  const next = new Collector(clock);
  const random = seededRandom(2);
  const sampler = testSampler(clock, next, { targetTracesPerSecond: 0.01, slowThresholdMs: 1000 });
  await sendSteadyTraffic([sampler], clock, { tracesPerSecond: 1000, seconds: 20, random });
  assert.ok(sampler.stats().probability < 1e-4, `p = ${sampler.stats().probability}`);

  const errors = Array.from({ length: 40 }, () => randomTraceId(random));
  const slow = Array.from({ length: 40 }, () => randomTraceId(random));
  const normal = Array.from({ length: 40 }, () => randomTraceId(random));
  const first = [...errors, ...slow, ...normal].map((traceId) => makeSpan({ traceId, endMs: clock.ms }));
  await sampler.consume(traceBatch([{ service: 'frontend', spans: first }]));
  clock.advance(1000);
  // The error or the slow span is not the first span of its trace, and comes in another batch.
  const second = [
    ...errors.map((traceId) => makeSpan({ traceId, error: true, endMs: clock.ms })),
    ...slow.map((traceId) => makeSpan({ traceId, durationMs: 1500, endMs: clock.ms })),
    ...normal.map((traceId) => makeSpan({ traceId, endMs: clock.ms })),
  ];
  await sampler.consume(traceBatch([{ service: 'backend', spans: second }]));
  const before = sampler.stats();
  await sampler.flush();
  const after = sampler.stats();
  assert.equal(after.keptError - before.keptError, 40);
  assert.equal(after.keptSlow - before.keptSlow, 40);

  const byTrace = next.byTrace();
  for (const traceId of [...errors, ...slow]) {
    const spans = byTrace.get(hexId(traceId)) ?? [];
    assert.deepEqual(
      spans.map((e) => e.service),
      ['frontend', 'backend'],
    );
    for (const { span } of spans) {
      assert.equal(attribute(span, ADJUSTED_COUNT_ATTRIBUTE), 1);
      assert.equal(thresholdOf(span.traceState), undefined);
    }
  }
  const normalKept = normal.filter((traceId) => byTrace.has(hexId(traceId))).length;
  assert.ok(normalKept <= 1, `${normalKept} of 40 plain traces kept at p < 1e-4`);
  await sampler.stop();
});

test('a late error span of a dropped trace is kept anyway, and so are the trace\'s later spans', async () => {
  const clock = new FakeClock();
  const next = new Collector(clock);
  const random = seededRandom(3);
  const sampler = testSampler(clock, next, { targetTracesPerSecond: 0.01 });
  await sendSteadyTraffic([sampler], clock, { tracesPerSecond: 1000, seconds: 20, random });
  const traceId = randomTraceId(random);
  await sampler.consume(traceBatch([{ service: 'api', spans: [makeSpan({ traceId, endMs: clock.ms })] }]));
  await sampler.flush();
  assert.equal(next.byTrace().has(hexId(traceId)), false, 'the plain trace should be dropped at p < 1e-4');

  await sampler.consume(traceBatch([{ service: 'api', spans: [makeSpan({ traceId, name: 'plain late' })] }]));
  await sampler.consume(traceBatch([{ service: 'api', spans: [makeSpan({ traceId, name: 'failed', error: true })] }]));
  await sampler.consume(traceBatch([{ service: 'api', spans: [makeSpan({ traceId, name: 'parent' })] }]));
  await sampler.flush();
  assert.deepEqual(
    next.byTrace().get(hexId(traceId))?.map((e) => e.span.name),
    ['failed', 'parent'],
  );
  assert.equal(sampler.stats().spansKeptLate, 1);
  await sampler.stop();
});

test('whole traces are kept or dropped, across batches, resources and late spans', async () => {
  const clock = new FakeClock();
  const next = new Collector(clock);
  const random = seededRandom(4);
  const sampler = testSampler(clock, next, { targetTracesPerSecond: 50 });
  await sendSteadyTraffic([sampler], clock, { tracesPerSecond: 100, seconds: 20, random });
  const p = sampler.stats().probability;
  assert.ok(p > 0.3 && p < 0.7, `p = ${p}`);

  const traces = Array.from({ length: 300 }, () => randomTraceId(random));
  const services = ['gateway', 'orders', 'payments', 'db'];
  for (const service of services) {
    // Two resources per batch, each trace's spans spread over four batches 400 ms apart.
    const spans = traces.map((traceId) => makeSpan({ traceId, name: service, endMs: clock.ms }));
    await sampler.consume(
      traceBatch([
        { service, spans: spans.slice(0, 150) },
        { service: `${service}-b`, spans: spans.slice(150) },
      ]),
    );
    clock.advance(400);
    await sampler.tick();
  }
  clock.advance(6000);
  await sampler.tick();
  // A late span of every trace, after all were decided: it follows its trace's decision.
  await sampler.consume(traceBatch([{ service: 'late', spans: traces.map((traceId) => makeSpan({ traceId })) }]));
  await sampler.flush();

  const byTrace = next.byTrace();
  let kept = 0;
  for (const traceId of traces) {
    const spans = byTrace.get(hexId(traceId));
    if (!spans) continue;
    kept++;
    assert.equal(spans.length, 5, `trace ${hexId(traceId)} kept with ${spans.length} of 5 spans`);
    const counts = new Set(spans.map((e) => attribute(e.span, ADJUSTED_COUNT_ATTRIBUTE)));
    assert.equal(counts.size, 1, 'all spans of a trace carry the same adjusted count');
  }
  assert.ok(kept > 60 && kept < 240, `${kept} of 300 traces kept at p ~ ${p}`);
  await sampler.stop();
});

test('kept spans carry sampling.adjusted_count = 1/p and the matching ot=th threshold', async () => {
  const clock = new FakeClock();
  const next = new Collector(clock);
  const random = seededRandom(5);
  const sampler = testSampler(clock, next, { targetTracesPerSecond: 20 });
  await sendSteadyTraffic([sampler], clock, { tracesPerSecond: 200, seconds: 30, random });
  const p = sampler.stats().probability;
  assert.ok(p > 0.05 && p < 0.15, `p = ${p}`);

  const traces = Array.from({ length: 400 }, () => randomTraceId(random));
  const spans = traces.map((traceId, i) =>
    makeSpan({ traceId, endMs: clock.ms, traceState: i % 2 === 0 ? 'vendor=abc,ot=th:4;x:1' : '' }),
  );
  await sampler.consume(traceBatch([{ service: 'svc', spans }]));
  await sampler.flush();
  const kept = next.emitted.filter((e) => traces.some((t) => hexId(t) === hexId(e.span.traceId as Uint8Array)));
  assert.ok(kept.length > 10, `${kept.length} kept`);
  for (const { span } of kept) {
    const threshold = thresholdOf(span.traceState);
    assert.ok(threshold !== undefined, `no th in '${span.traceState}'`);
    assert.ok(traceRandomness(span.traceId as Uint8Array) >= threshold, 'kept traces have randomness >= threshold');
    const adjusted = attribute(span, ADJUSTED_COUNT_ATTRIBUTE) as number;
    assert.equal(adjusted, Number(TWO_56) / Number(TWO_56 - threshold));
    assert.ok(Math.abs(adjusted * p - 1) < 0.01, `adjusted count ${adjusted} at p ${p}`);
    assert.equal(span.attributes?.filter((kv) => kv.key === ADJUSTED_COUNT_ATTRIBUTE).length, 1);
    if (span.traceState?.includes('vendor')) assert.match(span.traceState, /^ot=th:[0-9a-f]+;x:1,vendor=abc$/);
    else assert.match(span.traceState ?? '', /^ot=th:[0-9a-f]+$/);
  }
  await sampler.stop();
});

test('an explicit ot=rv randomness in the tracestate decides instead of the trace id', async () => {
  const clock = new FakeClock();
  const next = new Collector(clock);
  const random = seededRandom(6);
  const sampler = testSampler(clock, next, { targetTracesPerSecond: 10 });
  await sendSteadyTraffic([sampler], clock, { tracesPerSecond: 200, seconds: 20, random });
  // A trace id whose own randomness (last 7 bytes) is 0: dropped at any p < 1 without rv.
  const lowId = new Uint8Array(16).fill(0);
  lowId[0] = 1;
  const highRv = makeSpan({ traceId: lowId, traceState: 'ot=rv:ffffffffffffff' });
  const lowId2 = Uint8Array.from(lowId);
  lowId2[1] = 2;
  const zeroRv = makeSpan({ traceId: lowId2, traceState: 'ot=rv:00000000000000' });
  await sampler.consume(traceBatch([{ service: 's', spans: [highRv, zeroRv] }]));
  await sampler.flush();
  const byTrace = next.byTrace();
  assert.equal(byTrace.has(hexId(lowId)), true);
  assert.equal(byTrace.has(hexId(lowId2)), false);
  assert.match(byTrace.get(hexId(lowId))?.[0].span.traceState ?? '', /^ot=th:[0-9a-f]+;rv:ffffffffffffff$/);
  await sampler.stop();
});

test('output is valid OTLP: it survives an encode/decode round trip with resources and scopes', async () => {
  const clock = new FakeClock();
  const next = new Collector(clock);
  const sampler = testSampler(clock, next);
  const random = seededRandom(7);
  const a = randomTraceId(random);
  const b = randomTraceId(random);
  await sampler.consume(
    traceBatch([
      { service: 'web', spans: [makeSpan({ traceId: a }), makeSpan({ traceId: b })] },
      { service: 'db', spans: [makeSpan({ traceId: a, error: true })] },
    ]),
  );
  await sampler.flush();
  assert.equal(next.batches.length, 1);
  const batch = next.batches[0];
  assert.equal(batch.signal, 'traces');
  if (batch.signal !== 'traces') return;
  assert.equal(batch.items, 3);
  const decoded = decodeRequest('traces', encodeRequest('traces', batch.request));
  const seen = decoded.resourceSpans.map((rs) => ({
    service: rs.resource?.attributes.find((kv) => kv.key === 'service.name')?.value?.stringValue,
    schemaUrl: rs.schemaUrl,
    scopes: rs.scopeSpans.map((ss) => ({ scope: ss.scope?.name, spans: ss.spans.map((s) => hexId(s.traceId as Uint8Array)) })),
  }));
  assert.deepEqual(seen, [
    { service: 'web', schemaUrl: 'https://opentelemetry.io/schemas/1.26.0', scopes: [{ scope: 'web-tracer', spans: [hexId(a), hexId(b)] }] },
    { service: 'db', schemaUrl: 'https://opentelemetry.io/schemas/1.26.0', scopes: [{ scope: 'db-tracer', spans: [hexId(a)] }] },
  ]);
  for (const rs of decoded.resourceSpans) {
    for (const span of rs.scopeSpans[0].spans) {
      assert.equal(span.attributes.find((kv) => kv.key === ADJUSTED_COUNT_ATTRIBUTE)?.value?.doubleValue, 1);
      assert.equal(span.attributes.find((kv) => kv.key === 'http.route')?.value?.stringValue, '/x');
    }
  }
  await sampler.stop();
});

test('spans of one resource that came in separate batches go out under one resourceSpans', async () => {
  const clock = new FakeClock();
  const next = new Collector(clock);
  const sampler = testSampler(clock, next);
  const random = seededRandom(8);
  for (let i = 0; i < 3; i++) await sampler.consume(traceBatch([{ service: 'web', spans: [makeSpan({ traceId: randomTraceId(random) })] }]));
  await sampler.consume(traceBatch([{ service: 'db', spans: [makeSpan({ traceId: randomTraceId(random) })] }]));
  await sampler.flush();
  assert.equal(next.batches.length, 1);
  const batch = next.batches[0];
  if (batch.signal !== 'traces') throw new Error('expected traces');
  assert.deepEqual(
    batch.request.resourceSpans?.map((rs) => rs.scopeSpans?.map((ss) => ss.spans?.length)),
    [[3], [1]],
  );
  await sampler.stop();
});

test('a span protobuf cannot encode is dropped and counted; the rest of its batch is held', async () => {
  const clock = new FakeClock();
  const next = new Collector(clock);
  const lines: string[] = [];
  const sampler = testSampler(clock, next, { log: (line) => lines.push(line) });
  const random = seededRandom(9);
  const bad = makeSpan({ traceId: randomTraceId(random), name: 'bad' });
  bad.attributes = [null as never];
  await sampler.consume(traceBatch([{ service: 's', spans: [makeSpan({ traceId: randomTraceId(random), name: 'good' }), bad] }]));
  assert.equal(sampler.stats().spansUnencodable, 1);
  assert.equal(sampler.stats().bufferedSpans, 1);
  assert.equal(sampler.stats().tracesIn, 1);
  assert.match(lines[0], /cannot encode/);
  await sampler.flush();
  assert.deepEqual(
    next.emitted.map((e) => e.span.name),
    ['good'],
  );
  await sampler.stop();
});

test('bad options are rejected with an error naming the field', () => {
  const next = new Collector();
  assert.throws(() => createTraceSampler({ next, targetTracesPerSecond: 0 }), /targetTracesPerSecond/);
  assert.throws(() => createTraceSampler({ next, slowThresholdMs: -1 }), /slowThresholdMs/);
  assert.throws(() => createTraceSampler({ next, decisionWaitMs: Number.NaN }), /decisionWaitMs/);
  assert.throws(() => createTraceSampler({ next, maxBufferedSpans: 1.5 }), /maxBufferedSpans/);
  assert.throws(() => createTraceSampler({ next, rememberDecisions: -1 }), /rememberDecisions/);
  assert.throws(() => createTraceSampler({ next, tickMs: 0 }), /tickMs/);
  assert.throws(() => createTraceSampler({ next: {} as never }), /next/);
});
