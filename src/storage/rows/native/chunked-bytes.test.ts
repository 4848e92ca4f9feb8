/**
 * A body of chunks holds exactly the bytes one growing buffer holds for the same writes,
 * whatever falls on a chunk boundary: short values, bulk copies and appends longer than a
 * chunk, and reservations larger than one.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NativeBytes } from './bytes.ts';
import { CHUNK_BYTES, ChunkedBytes, type ChunkSource } from './chunked-bytes.ts';

/** The same run of writes into any NativeBytes, long enough to cross several chunks. */
function writeMixed(out: NativeBytes, seed: number): void {
  const text = Buffer.from('span attribute value '.repeat(20));
  const column = new NativeBytes(16);
  for (let i = 0; i < 70_000; i++) column.u64(i, seed + i);
  for (let i = 0; i < 3000; i++) {
    out.u8(i & 0xff);
    out.u32(seed * i);
    out.u64n(i * 1_000_003);
    out.varuint(i * 131);
    out.string(text, 0, (i * 7) % text.length);
    out.hex(text, 0, i % 17);
    out.f64(i / 3);
    out.ascii(`n${i}`);
    if (i % 500 === 0) {
      // Bulk: a column longer than a chunk, and a copy of part of it.
      out.reserve(column.byteSize());
      out.append(column);
      out.copy(column.buf, 13, 13 + (i % 3) * 200_000 + 300, null);
    }
  }
}

/** Counts the chunks taken and given, and hands out used ones (as a pool does). */
function countingSource(): ChunkSource & { taken: number; given: Buffer[] } {
  const source = {
    taken: 0,
    given: [] as Buffer[],
    takeChunk() {
      source.taken++;
      return source.given.pop() ?? Buffer.alloc(CHUNK_BYTES, 0xee);
    },
    giveChunks(chunks: readonly Buffer[]) {
      source.given.push(...chunks);
    },
  };
  return source;
}

test('a body of chunks holds the bytes a growing buffer holds, across chunk boundaries', () => {
  const whole = new NativeBytes(16);
  writeMixed(whole, 7);
  const source = countingSource();
  const chunked = new ChunkedBytes(source);
  writeMixed(chunked, 7);
  assert.ok(whole.pos > 8 * CHUNK_BYTES, 'the writes cross several chunks');
  assert.equal(chunked.byteSize(), whole.pos);
  const chunks = chunked.chunks();
  assert.ok(chunks.length > 8);
  assert.ok(chunks.every((c) => c.length <= CHUNK_BYTES));
  assert.deepEqual(Buffer.concat(chunks), whole.view());
  assert.equal(chunked.capacity(), source.taken * CHUNK_BYTES);
});

test('chunks handed out stay as they are while writing goes on; reset gives every chunk back, and the reused ones write the same bytes', () => {
  const source = countingSource();
  const body = new ChunkedBytes(source);
  writeMixed(body, 1);
  const early = body.chunks();
  const copies = early.map((c) => Buffer.from(c));
  writeMixed(body, 2);
  early.forEach((c, i) => assert.deepEqual(c, copies[i]));
  const taken = source.taken;
  body.reset();
  assert.equal(source.given.length, taken);
  assert.equal(body.byteSize(), 0);
  assert.deepEqual(body.chunks(), []);
  // Written again into the chunks it gave back (full of the old bytes): the same bytes as a fresh buffer.
  writeMixed(body, 3);
  assert.ok(source.given.length < taken, 'it writes into chunks it gave back');
  const whole = new NativeBytes(16);
  writeMixed(whole, 3);
  assert.deepEqual(Buffer.concat(body.chunks()), whole.view());
});
