import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { str } from '../../otlp/index.ts';
import { toBatches } from './batches.ts';
import type { MetricShape, ResourceOutput } from './window.ts';

const shape = (name: string): MetricShape => ({ name, description: '', unit: '1', metadata: [], kind: 'gauge', temporality: 0, monotonic: false });
const points = (n: number) => Array.from({ length: n }, (_, i) => ({ timeUnixNano: i, asInt: i }));

function resource(name: string, metrics: Array<[string, number]>): ResourceOutput {
  return {
    resourceKey: name,
    resource: { attributes: [str('service.name', name)] },
    schemaUrl: '',
    scopes: [{ scope: { name: 'lib' }, schemaUrl: '', metrics: metrics.map(([m, n]) => ({ shape: shape(m), points: points(n) })) }],
  };
}

describe('output batches', () => {
  test('no batch holds more than maxPoints; split metrics keep their resource, scope and descriptor', () => {
    const batches = toBatches([resource('a', [['m1', 3], ['m2', 4]]), resource('b', [['m3', 2]])], 4);
    assert.deepEqual(
      batches.map((b) => b.items),
      [4, 4, 1],
    );
    const layout = batches.map((b) =>
      b.request.resourceMetrics!.map((rm) => [rm.resource!.attributes![0].value!.stringValue, rm.scopeMetrics!.map((sm) => [sm.scope!.name, sm.metrics!.map((m) => `${m.name}:${m.gauge!.dataPoints!.length}`)])]),
    );
    assert.deepEqual(layout, [
      [['a', [['lib', ['m1:3', 'm2:1']]]]],
      [
        ['a', [['lib', ['m2:3']]]],
        ['b', [['lib', ['m3:1']]]],
      ],
      [['b', [['lib', ['m3:1']]]]],
    ]);
    const m2 = batches.flatMap((b) => b.request.resourceMetrics!.flatMap((rm) => rm.scopeMetrics!.flatMap((sm) => sm.metrics!.filter((m) => m.name === 'm2'))));
    assert.deepEqual(
      m2.flatMap((m) => m.gauge!.dataPoints!.map((p) => p.asInt)),
      [0, 1, 2, 3],
    );
  });

  test('nothing drained, no batches', () => {
    assert.deepEqual(toBatches([], 10), []);
  });
});
