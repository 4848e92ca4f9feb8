import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Collector, FakeClock, START_MS, hexId, seededRandom, sendSteadyTraffic, testSampler } from './testing.ts';
import type { EmittedSpan } from './testing.ts';

/** Kept traces per second among spans handed on in [fromS, toS) seconds of simulated time. */
function keptPerSecond(emitted: EmittedSpan[], fromS: number, toS: number): number {
  const traces = new Set<string>();
  for (const e of emitted) {
    const t = (e.atMs - START_MS) / 1000;
    if (t >= fromS && t < toS) traces.add(hexId(e.span.traceId as Uint8Array));
  }
  return traces.size / (toS - fromS);
}

test('the target rate is held within 20 % on a steady stream', async () => {
  const clock = new FakeClock();
  const next = new Collector(clock);
  const sampler = testSampler(clock, next, { targetTracesPerSecond: 10 });
  await sendSteadyTraffic([sampler], clock, { tracesPerSecond: 1000, seconds: 120, random: seededRandom(11) });
  const rate = keptPerSecond(next.emitted, 60, 120);
  assert.ok(rate >= 8 && rate <= 12, `kept ${rate} traces/s over the last 60 s, target 10`);
  const p = sampler.stats().probability;
  assert.ok(Math.abs(p - 0.01) < 0.002, `p = ${p}, expected about 10 / 1000`);
  await sampler.stop();
});

test('adapts when traffic grows tenfold: p drops and the kept rate returns near the target', async () => {
  const clock = new FakeClock();
  const next = new Collector(clock);
  const sampler = testSampler(clock, next, { targetTracesPerSecond: 10 });
  const random = seededRandom(12);
  await sendSteadyTraffic([sampler], clock, { tracesPerSecond: 200, seconds: 60, random });
  const before = sampler.stats().probability;
  assert.ok(Math.abs(before - 0.05) < 0.01, `p = ${before}, expected about 10 / 200`);
  const keptBefore = keptPerSecond(next.emitted, 30, 60);
  assert.ok(keptBefore >= 8 && keptBefore <= 12, `kept ${keptBefore}/s at 200 traces/s`);

  await sendSteadyTraffic([sampler], clock, { tracesPerSecond: 2000, seconds: 60, random });
  const after = sampler.stats().probability;
  assert.ok(Math.abs(after - 0.005) < 0.001, `p = ${after}, expected about 10 / 2000`);
  const keptAfter = keptPerSecond(next.emitted, 90, 120);
  assert.ok(keptAfter >= 8 && keptAfter <= 12, `kept ${keptAfter}/s at 2000 traces/s`);
  await sampler.stop();
});

test('p moves smoothly on a step in traffic: steadily down over many ticks, not in one jump', async () => {
  const clock = new FakeClock();
  const sampler = testSampler(clock, new Collector(clock), { targetTracesPerSecond: 10 });
  const random = seededRandom(13);
  await sendSteadyTraffic([sampler], clock, { tracesPerSecond: 200, seconds: 40, random });
  const history = [sampler.stats().probability];
  for (let tick = 0; tick < 60; tick++) {
    await sendSteadyTraffic([sampler], clock, { tracesPerSecond: 2000, seconds: 0.5, random });
    history.push(sampler.stats().probability);
  }
  const start = history[0];
  const end = history.at(-1) as number;
  assert.ok(start > 0.04 && end < 0.008, `p went from ${start} to ${end}`);
  for (let i = 1; i < history.length; i++) {
    assert.ok(history[i] <= history[i - 1] * 1.05, `p rose from ${history[i - 1]} to ${history[i]} at tick ${i}`);
    assert.ok(history[i] >= history[i - 1] * 0.6, `p fell from ${history[i - 1]} to ${history[i]} in one tick`);
  }
  await sampler.stop();
});

test('two hosts seeing the same traffic decide identically for every trace (consistent by trace id)', async () => {
  const clock = new FakeClock();
  const nextA = new Collector(clock);
  const nextB = new Collector(clock);
  const a = testSampler(clock, nextA, { targetTracesPerSecond: 20 });
  const b = testSampler(clock, nextB, { targetTracesPerSecond: 20 });
  const sent: Uint8Array[] = [];
  await sendSteadyTraffic([a, b], clock, {
    tracesPerSecond: 400,
    seconds: 40,
    random: seededRandom(14),
    onTrace: (id) => sent.push(id),
  });
  await a.flush();
  await b.flush();
  assert.equal(a.stats().probability, b.stats().probability);
  const keptA = new Set(nextA.emitted.map((e) => hexId(e.span.traceId as Uint8Array)));
  const keptB = new Set(nextB.emitted.map((e) => hexId(e.span.traceId as Uint8Array)));
  assert.ok(keptA.size > 200 && keptA.size < sent.length / 2, `${keptA.size} of ${sent.length} kept`);
  assert.deepEqual([...keptA].sort(), [...keptB].sort());
  await a.stop();
  await b.stop();
});
