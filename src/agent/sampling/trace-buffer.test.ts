import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HeldSpan } from './held-span.ts';
import { OriginTable } from './origins.ts';
import { TraceBuffer, traceIdOf, traceKey } from './trace-buffer.ts';

const origins = new OriginTable();
const origin = origins.scope(origins.resource(undefined, undefined), undefined, undefined);
const held = (): HeldSpan => new HeldSpan(origin);

function id(n: number): Uint8Array {
  const out = new Uint8Array(16);
  out[15] = n;
  return out;
}

test('traceKey is distinct per trace id and 16 characters long, and gives the id back', () => {
  assert.equal(traceKey(id(1)).length, 16);
  assert.notEqual(traceKey(id(1)), traceKey(id(2)));
  assert.equal(traceKey(id(200)), traceKey(id(200)));
  const full = Uint8Array.from({ length: 16 }, (_, i) => 255 - i * 7);
  assert.deepEqual(traceIdOf(traceKey(full)), full);
});

test('traces leave oldest first: due ones by first-span time, early ones from the front', () => {
  const buffer = new TraceBuffer();
  for (let n = 0; n < 4; n++) {
    const trace = buffer.create(traceKey(id(n)), 1000 * n);
    buffer.addSpan(trace, held());
    buffer.addSpan(trace, held());
  }
  // A late span of the oldest trace does not make it younger.
  buffer.addSpan(buffer.get(traceKey(id(0)))!, held());
  assert.equal(buffer.spanCount, 9);
  assert.deepEqual(
    buffer.takeDue(1000).map((t) => t.seq),
    [0, 1],
  );
  assert.equal(buffer.decidedSeq, 1);
  assert.equal(buffer.spanCount, 4);
  assert.equal(buffer.shift()?.seq, 2);
  assert.deepEqual(
    buffer.takeAll().map((t) => t.seq),
    [3],
  );
  assert.equal(buffer.spanCount, 0);
  assert.equal(buffer.traceCount, 0);
  assert.equal(buffer.shift(), undefined);
  assert.equal(buffer.decidedSeq, 3);
});
