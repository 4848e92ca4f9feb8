import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Telemetry } from '../types.ts';
import { Collector, FakeClock, makeSpan, randomTraceId, seededRandom, sendSteadyTraffic, testSampler, traceBatch } from './testing.ts';

/** Polls until `condition` holds (the sampler's own timer runs on real time). */
async function waitFor(condition: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

test('the buffer limit decides the oldest traces early and never holds more than maxBufferedSpans', async () => {
  const clock = new FakeClock();
  const next = new Collector(clock);
  const random = seededRandom(21);
  const sampler = testSampler(clock, next, { maxBufferedSpans: 100, targetTracesPerSecond: 10 });
  // Traffic first, so p < 1 and early decisions drop most traces.
  await sendSteadyTraffic([sampler], clock, { tracesPerSecond: 15, seconds: 20, random });
  const traces = Array.from({ length: 200 }, () => randomTraceId(random));
  for (let i = 0; i < traces.length; i += 10) {
    // Two spans per trace, in one batch, no tick: only the limit can make room.
    const spans = traces.slice(i, i + 10).flatMap((traceId) => [makeSpan({ traceId }), makeSpan({ traceId })]);
    await sampler.consume(traceBatch([{ service: 's', spans }]));
    assert.ok(sampler.stats().bufferedSpans <= 100, `holding ${sampler.stats().bufferedSpans} spans`);
  }
  const stats = sampler.stats();
  assert.ok(stats.decidedEarly >= 50, `${stats.decidedEarly} decided early`);
  await sampler.flush();
  const done = sampler.stats();
  assert.equal(done.spansKept + done.spansDropped, done.spansIn);
  assert.equal(done.spansSent, done.spansKept);
  // Early decisions still keep or drop traces whole.
  for (const [, spans] of next.byTrace()) assert.ok(spans.length === 1 || spans.length === 2);
  for (const traceId of traces) {
    const kept = next.byTrace().get(Buffer.from(traceId).toString('hex'));
    assert.ok(kept === undefined || kept.length === 2);
  }
  await sampler.stop();
});

test('when downstream refuses, kept spans are held for the next tick, bounded, and sent once it recovers', async () => {
  const clock = new FakeClock();
  const next = new Collector(clock);
  const lines: string[] = [];
  const random = seededRandom(22);
  const sampler = testSampler(clock, next, { maxBufferedSpans: 100, decisionWaitMs: 1000, log: (line) => lines.push(line) });
  next.refuse = true;
  // No traffic estimate yet, so p = 1: every trace is kept, and none can be handed on.
  for (let i = 0; i < 30; i++) {
    const spans = Array.from({ length: 10 }, () => makeSpan({ traceId: randomTraceId(random) }));
    await sampler.consume(traceBatch([{ service: 's', spans }]));
    assert.ok(sampler.stats().bufferedSpans <= 100, `holding ${sampler.stats().bufferedSpans} spans`);
    clock.advance(500);
    await sampler.tick();
  }
  const stuck = sampler.stats();
  assert.ok(stuck.sendFailures > 0);
  assert.ok(stuck.spansDroppedOverflow > 0);
  assert.equal(stuck.spansSent, 0);
  assert.match(lines[0], /downstream did not take \d+ kept spans.*downstream is down/);
  await assert.rejects(sampler.flush(), /could not hand \d+ kept spans downstream/);

  next.refuse = false;
  await sampler.tick();
  const after = sampler.stats();
  assert.equal(after.bufferedSpans, 0);
  assert.equal(after.spansSent + after.spansDroppedOverflow, after.spansKept);
  assert.equal(next.emitted.length, after.spansSent);
  await sampler.stop();
});

test('a receiver checkpoint travels only after every span of its batch was decided', async () => {
  const clock = new FakeClock();
  const next = new Collector(clock);
  const random = seededRandom(23);
  const sampler = testSampler(clock, next, { decisionWaitMs: 5000 });
  const traceId = randomTraceId(random);
  await sampler.consume(traceBatch([{ service: 's', spans: [makeSpan({ traceId })] }], { source: 'filetrace', state: '{"offset":1}' }));
  clock.advance(2000);
  await sampler.consume(traceBatch([{ service: 's', spans: [makeSpan({ traceId: randomTraceId(random) })] }], { source: 'filetrace', state: '{"offset":2}' }));
  await sampler.tick();
  assert.equal(next.batches.length, 0);
  clock.advance(3000);
  await sampler.tick();
  // The first trace is decided, but the second batch's trace is not: its newer checkpoint waits.
  assert.equal(next.batches.length, 1);
  assert.equal(next.batches[0].checkpoint, undefined);
  clock.advance(2000);
  await sampler.tick();
  const withCheckpoint = next.batches.filter((b) => b.checkpoint);
  assert.equal(withCheckpoint.length, 1);
  assert.deepEqual(withCheckpoint[0].checkpoint, { source: 'filetrace', state: '{"offset":2}' });
  assert.equal(next.batches.at(-1), withCheckpoint[0], 'the checkpoint comes with or after the spans it covers');
  await sampler.stop();
});

test('a checkpoint whose spans were all dropped still travels, in an empty batch', async () => {
  const clock = new FakeClock();
  const next = new Collector(clock);
  const random = seededRandom(24);
  const sampler = testSampler(clock, next, { targetTracesPerSecond: 0.001 });
  await sendSteadyTraffic([sampler], clock, { tracesPerSecond: 500, seconds: 15, random });
  const sentBefore = next.batches.length;
  const spans = Array.from({ length: 5 }, () => makeSpan({ traceId: randomTraceId(random) }));
  await sampler.consume(traceBatch([{ service: 's', spans }], { source: 'r', state: 'x' }));
  await sampler.flush();
  const after = next.batches.slice(sentBefore);
  const carrier = after.find((b) => b.checkpoint) as Telemetry;
  assert.deepEqual(carrier.checkpoint, { source: 'r', state: 'x' });
  assert.equal(carrier.items, 0);
  await sampler.stop();
});

test('stop() hands on everything held, and trace batches after it are refused', async () => {
  const clock = new FakeClock();
  const next = new Collector(clock);
  const sampler = testSampler(clock, next);
  const random = seededRandom(25);
  await sampler.consume(traceBatch([{ service: 's', spans: [makeSpan({ traceId: randomTraceId(random) }), makeSpan({ traceId: randomTraceId(random) })] }]));
  await sampler.stop();
  assert.equal(next.emitted.length, 2);
  assert.equal(sampler.stats().bufferedSpans, 0);
  await assert.rejects(sampler.consume(traceBatch([{ service: 's', spans: [makeSpan({ traceId: randomTraceId(random) })] }])), /stopped/);
});

test('the timer decides and hands on by itself', async () => {
  const next = new Collector();
  const sampler = testSampler(new FakeClock(), next, { now: Date.now, tickMs: 20, decisionWaitMs: 0 });
  await sampler.consume(traceBatch([{ service: 's', spans: [makeSpan({ traceId: randomTraceId(seededRandom(26)) })] }]));
  await waitFor(() => next.emitted.length === 1, 'the timer to hand the span on');
  await sampler.stop();
});

test('spans without a valid trace id are passed on unsampled', async () => {
  const clock = new FakeClock();
  const next = new Collector(clock);
  const sampler = testSampler(clock, next);
  await sampler.consume(traceBatch([{ service: 's', spans: [makeSpan({ traceId: new Uint8Array(16) }), makeSpan({ traceId: new Uint8Array(3) })] }]));
  await sampler.flush();
  assert.equal(next.emitted.length, 2);
  assert.equal(sampler.stats().spansWithoutTraceId, 2);
  assert.equal(sampler.stats().tracesIn, 0);
  await sampler.stop();
});
