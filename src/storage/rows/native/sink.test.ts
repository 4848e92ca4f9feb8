/**
 * A reset sink is as good as a new one: the storage consumer reuses sinks across batches (and
 * a sink empties its columns after every block), so every body a reused sink writes must be
 * byte for byte the body a fresh sink writes for the same records (fresh sinks are checked
 * against the JSON path in differential.test.ts and native.test.ts).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { payloadFor } from '../../../../bench/payloads.ts';
import { encodeRequest } from '../../../otlp/index.ts';
import { largeTraces, sampleLogs, sampleMetrics, sampleTraces } from '../../../otlp/fixtures.ts';
import type { Signal } from '../../../telemetry/signals.ts';
import { CHUNK_BYTES } from './chunked-bytes.ts';
import { NATIVE_MAPPERS, NativeRowSink, NativeSinkPool } from './index.ts';

type Input = [Signal, Buffer];

/** `n` spans named `${prefix}${i}` (distinct names: a dictionary past 256 keys takes 16-bit indexes). */
function namedSpans(n: number, prefix: string): Buffer {
  const spans = Array.from({ length: n }, (_, i) => ({ name: `${prefix}${i}`, kind: 2, attributes: [{ key: `k${i % 40}`, value: { stringValue: `v${i}` } }] }));
  return Buffer.from(encodeRequest('traces', { resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: prefix } }] }, scopeSpans: [{ spans }] }] }));
}

const FIRST: Input[] = [
  ['traces', namedSpans(300, 'first-')],
  ['logs', Buffer.from(payloadFor('logs', 40, 1))],
  ['metrics', Buffer.from(encodeRequest('metrics', sampleMetrics()))],
  ['traces', Buffer.from(encodeRequest('traces', largeTraces(80, 3)))],
];
const SECOND: Input[] = [
  ['traces', Buffer.from(encodeRequest('traces', sampleTraces()))],
  ['logs', Buffer.from(encodeRequest('logs', sampleLogs()))],
  ['metrics', Buffer.from(payloadFor('metrics', 30, 2))],
  ['traces', Buffer.from(payloadFor('traces', 20, 3))],
];

function feed(sink: NativeRowSink, inputs: Input[], tenant: string): void {
  for (const [signal, bytes] of inputs) NATIVE_MAPPERS[signal](bytes, tenant, sink);
}

/** Blocks as [table, bytes, rows], copied out of the sink's buffer. */
function blocks(sink: NativeRowSink): Array<[string, Buffer, number]> {
  return sink.entries().map(([table, body, rows]) => [table, Buffer.concat(body), rows]);
}

for (const blockRows of [8192, 64]) {
  test(`a reset sink writes byte for byte the bodies a new sink writes (dictionaries, constant maps, pinned ids; blocks of ${blockRows} rows)`, () => {
    const reused = new NativeRowSink(blockRows);
    feed(reused, FIRST, 'tenant-a');
    const first = blocks(reused);
    assert.ok(first.length >= 3, 'the first batch fills several tables');
    reused.reset();
    assert.equal(reused.rowCount, 0);
    assert.deepEqual(reused.entries(), []);
    feed(reused, SECOND, 'tenant-b');
    const fresh = new NativeRowSink(blockRows);
    feed(fresh, SECOND, 'tenant-b');
    assert.deepEqual(blocks(reused), blocks(fresh));
    // And back: the first batch again, after a second reset, as a new sink writes it.
    reused.reset();
    feed(reused, FIRST, 'tenant-a');
    assert.deepEqual(blocks(reused), first);
  });
}

test('a reset after a record that failed half-way leaves nothing of it behind', () => {
  const reused = new NativeRowSink();
  const good = Buffer.from(encodeRequest('traces', sampleTraces()));
  NATIVE_MAPPERS.traces(good, 't', reused);
  assert.throws(() => NATIVE_MAPPERS.traces(Buffer.concat([namedSpans(20, 'half-'), Buffer.from([0x0a, 0x10, 0x12])]), 't', reused));
  reused.reset();
  NATIVE_MAPPERS.traces(good, 't', reused);
  const fresh = new NativeRowSink();
  NATIVE_MAPPERS.traces(good, 't', fresh);
  assert.deepEqual(blocks(reused), blocks(fresh));
});

test('blocks handed out stay as they were when rows are added and entries() is asked again', () => {
  const sink = new NativeRowSink();
  feed(sink, SECOND.slice(0, 2), 't');
  const handedOut = sink.entries();
  const copies = handedOut.map(([, body]) => Buffer.concat(body));
  feed(sink, FIRST, 't');
  const later = sink.entries();
  assert.notDeepEqual(
    later.map(([, , rows]) => rows),
    handedOut.map(([, , rows]) => rows),
  );
  handedOut.forEach(([, body], i) => assert.deepEqual(Buffer.concat(body), copies[i]));
});

test('the pool hands back emptied sinks and keeps no more than its byte budget', () => {
  const a = new NativeRowSink();
  const b = new NativeRowSink();
  feed(a, FIRST, 't');
  feed(b, FIRST, 't');
  a.entries();
  const pool = new NativeSinkPool(a.capacity() + 1024);
  pool.give(a);
  assert.equal(pool.bytes, a.capacity());
  pool.give(b); // past the budget: not kept
  assert.equal(pool.bytes, a.capacity());
  const taken = pool.take();
  assert.equal(taken, a);
  assert.equal(taken.rowCount, 0);
  assert.equal(pool.bytes, 0);
  const next = pool.take();
  assert.notEqual(next, a);
  assert.notEqual(next, b);
  assert.equal(next.capacity(), 0);
});

test("the pool's sinks write their bodies into the pool's chunks, which come back with the sink and go to the next batch's body", () => {
  const big: Input[] = Array.from({ length: 6 }, (_, i) => ['traces', Buffer.from(payloadFor('traces', 500, i + 1))] as Input);
  const pool = new NativeSinkPool(64 * 1024 * 1024);
  const first = pool.take();
  feed(first, big, 't');
  const firstBody = blocks(first);
  const bodyChunks = first.entries()[0][1].length;
  assert.ok(bodyChunks > 2, 'the body takes several chunks');
  pool.give(first);
  // Emptied, it holds only its columns.
  const columns = first.capacity();
  // The sink's columns and its body's chunks are kept.
  assert.ok(pool.bytes >= columns + bodyChunks * CHUNK_BYTES, `${pool.bytes} bytes kept`);
  const kept = pool.bytes;
  // Another sink from the pool (not the kept one) writes into the kept chunks: the pool shrinks by them.
  const other = pool.take();
  const second = pool.take();
  assert.notEqual(second, first);
  feed(second, big, 't');
  // Chunks full of the first batch's bytes write the same body a new sink writes.
  assert.deepEqual(blocks(second), firstBody);
  assert.equal(pool.bytes, kept - columns - bodyChunks * CHUNK_BYTES);
  pool.give(second);
  pool.give(other);
});

test('the pool keeps no chunks past its byte budget', () => {
  const pool = new NativeSinkPool(3 * CHUNK_BYTES);
  const sink = pool.take();
  feed(sink, Array.from({ length: 6 }, (_, i) => ['traces', Buffer.from(payloadFor('traces', 500, i + 1))] as Input), 't');
  assert.ok(sink.entries()[0][1].length > 3);
  pool.give(sink);
  assert.equal(pool.bytes, 3 * CHUNK_BYTES);
});
