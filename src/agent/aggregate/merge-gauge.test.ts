import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { str } from '../../otlp/index.ts';
import { GaugeMerger } from './merge-gauge.ts';

const attrs = [str('host', 'a')];

describe('gauge merge', () => {
  test('the latest value stands for the window, with the min and max of all values', () => {
    const m = new GaugeMerger();
    m.add({ timeUnixNano: 20, asInt: 7 });
    m.add({ timeUnixNano: 40, asInt: 5 });
    m.add({ timeUnixNano: 10, asInt: 2 });
    m.add({ timeUnixNano: 30, asInt: 11 });
    assert.deepEqual(m.take(attrs), [{ attributes: attrs, timeUnixNano: 40, asInt: 5 }]);
    assert.deepEqual(m.extremes(attrs), {
      min: { attributes: attrs, startTimeUnixNano: 10, timeUnixNano: 40, asInt: 2 },
      max: { attributes: attrs, startTimeUnixNano: 10, timeUnixNano: 40, asInt: 11 },
    });
  });

  test('min and max keep the type of the value they came from', () => {
    const m = new GaugeMerger();
    m.add({ timeUnixNano: 1, asDouble: 0.25 });
    m.add({ timeUnixNano: 2, asInt: 3 });
    const e = m.extremes(attrs)!;
    assert.equal(e.min.asDouble, 0.25);
    assert.equal(e.max.asInt, 3);
  });

  test('one value in the window: no min and max', () => {
    const m = new GaugeMerger();
    m.add({ timeUnixNano: 1, asDouble: 0.5 });
    assert.equal(m.take(attrs)[0].asDouble, 0.5);
    assert.equal(m.extremes(attrs), undefined);
  });
});
