import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { longToNumber, str } from '../../otlp/index.ts';
import { FOLDED_METRIC, FORGET_AFTER_REPORTS, FoldCounter } from './fold-counter.ts';

const resource = { attributes: [str('service.name', 'shop')] };

function values(c: FoldCounter, nowMs: number): Array<[string, number]> {
  return c.report(nowMs).flatMap((r) =>
    r.metric.points.map((p) => {
      const a = p.attributes!;
      return [`${r.resourceKey} ${a[0].value!.stringValue} ${a[1].value!.stringValue}`, Number((p as { asInt: number }).asInt)] as [string, number];
    }),
  );
}

describe('folded-points counter', () => {
  test('counts per resource, metric and reason, cumulatively, as a monotonic sum', () => {
    const c = new FoldCounter();
    assert.equal(c.add('r1', resource, '', 'hits', 'series_limit', 1000), true);
    assert.equal(c.add('r1', resource, '', 'hits', 'series_limit', 2000), false);
    c.add('r1', resource, '', 'hits', 'attribute_values', 2000);
    c.add('r2', resource, '', 'hits', 'series_limit', 2000);
    const [first] = c.report(5000);
    assert.equal(first.metric.shape.name, FOLDED_METRIC);
    assert.equal(first.metric.shape.unit, '{point}');
    assert.equal(first.metric.shape.monotonic, true);
    assert.equal(longToNumber(first.metric.points[0].startTimeUnixNano), 1000 * 1e6);
    assert.equal(longToNumber(first.metric.points[0].timeUnixNano), 5000 * 1e6);
    c.add('r1', resource, '', 'hits', 'series_limit', 6000);
    assert.deepEqual(values(c, 7000), [
      ['r1 hits series_limit', 3],
      ['r1 hits attribute_values', 1],
      ['r2 hits series_limit', 1],
    ]);
  });

  test('a series without new folds for FORGET_AFTER_REPORTS reports is dropped', () => {
    const c = new FoldCounter();
    c.add('r1', resource, '', 'hits', 'series_limit', 0);
    c.add('r2', resource, '', 'hits', 'series_limit', 0);
    for (let i = 0; i < FORGET_AFTER_REPORTS; i++) {
      c.add('r2', resource, '', 'hits', 'series_limit', i);
      assert.equal(c.report(i).length, 2);
    }
    assert.deepEqual(
      c.report(0).map((r) => r.resourceKey),
      ['r2'],
    );
  });
});
