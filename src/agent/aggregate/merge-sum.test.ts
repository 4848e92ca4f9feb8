import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { str } from '../../otlp/index.ts';
import { DeltaSumMerger, cumulativeSumMerger } from './merge-sum.ts';
import { NO_RECORDED_VALUE } from './merger.ts';
import { i64 } from './test-longs.ts';

const attrs = [str('k', 'v')];

describe('sum merge', () => {
  test('delta: int values add up and stay int, from the earliest start to the latest time', () => {
    const m = new DeltaSumMerger();
    m.add({ startTimeUnixNano: 20, timeUnixNano: 30, asInt: 3 });
    m.add({ startTimeUnixNano: 10, timeUnixNano: 20, asInt: i64(4) });
    m.add({ startTimeUnixNano: 30, timeUnixNano: 40, asInt: '-2' as unknown as number }); // a string, as OTLP/JSON carries int64
    assert.deepEqual(m.take(attrs), [{ attributes: attrs, startTimeUnixNano: 10, timeUnixNano: 40, asInt: 5 }]);
  });

  test('delta: one double input makes the total a double', () => {
    const m = new DeltaSumMerger();
    m.add({ startTimeUnixNano: 0, timeUnixNano: 1, asInt: 2 });
    m.add({ startTimeUnixNano: 1, timeUnixNano: 2, asDouble: 0.5 });
    assert.deepEqual(m.take(attrs), [{ attributes: attrs, startTimeUnixNano: 0, timeUnixNano: 2, asDouble: 2.5 }]);
  });

  test('delta: gap markers add nothing; a window of only gaps reports a gap', () => {
    const m = new DeltaSumMerger();
    m.add({ startTimeUnixNano: 0, timeUnixNano: 1, asInt: 2 });
    m.add({ startTimeUnixNano: 1, timeUnixNano: 2, flags: NO_RECORDED_VALUE });
    assert.deepEqual(m.take(attrs), [{ attributes: attrs, startTimeUnixNano: 0, timeUnixNano: 2, asInt: 2 }]);
    const gaps = new DeltaSumMerger();
    gaps.add({ startTimeUnixNano: 0, timeUnixNano: 1, flags: NO_RECORDED_VALUE });
    assert.deepEqual(gaps.take(attrs), [{ attributes: attrs, startTimeUnixNano: 0, timeUnixNano: 1, flags: NO_RECORDED_VALUE }]);
  });

  test('delta: exemplars keep the last four, copied', () => {
    const m = new DeltaSumMerger();
    const traceId = new Uint8Array(16).fill(7);
    for (let i = 1; i <= 6; i++) m.add({ startTimeUnixNano: i, timeUnixNano: i + 1, asInt: 1, exemplars: [{ timeUnixNano: i, asInt: i, traceId }] });
    const [p] = m.take(attrs);
    assert.deepEqual(
      p.exemplars!.map((e) => e.asInt),
      [3, 4, 5, 6],
    );
    assert.notEqual(p.exemplars![0].traceId, traceId);
    assert.deepEqual(p.exemplars![0].traceId, traceId);
  });

  test('cumulative: the point with the latest time wins, whatever the arrival order', () => {
    const m = cumulativeSumMerger();
    m.add({ startTimeUnixNano: 0, timeUnixNano: 20, asDouble: 7 });
    m.add({ startTimeUnixNano: 0, timeUnixNano: 30, asDouble: 9 });
    m.add({ startTimeUnixNano: 0, timeUnixNano: 10, asDouble: 5 });
    assert.deepEqual(m.take(attrs), [{ attributes: attrs, startTimeUnixNano: 0, timeUnixNano: 30, asDouble: 9 }]);
  });

  test('cumulative: a large int64 is kept exactly as it came', () => {
    const big = i64('9007199254740993');
    const m = cumulativeSumMerger();
    m.add({ startTimeUnixNano: 0, timeUnixNano: 1, asInt: big });
    assert.equal(m.take(attrs)[0].asInt, big);
  });
});
