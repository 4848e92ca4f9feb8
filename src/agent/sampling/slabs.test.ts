import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SlabRange } from './held-span.ts';
import { SlabStore } from './slabs.ts';

const range = (): SlabRange => ({ slab: Buffer.alloc(0), offset: 0, length: 0 });
const bytesOf = (r: SlabRange): string => r.slab.toString('latin1', r.offset, r.offset + r.length);

test('small encodings share a slab, back to back, until it is full', () => {
  const store = new SlabStore(160);
  const ranges = ['first', 'second', 'third'].map((text) => {
    const r = range();
    store.put(r, Buffer.from(text));
    return r;
  });
  assert.deepEqual(ranges.map(bytesOf), ['first', 'second', 'third']);
  assert.equal(ranges[1].slab, ranges[0].slab);
  assert.equal(ranges[1].offset, 5);
  assert.equal(ranges[0].slab.length, 160);
  // Up to exactly full (16 + 14 * 10 = 156, then 4 more), then a new slab; the old one stays as it was.
  for (let i = 0; i < 14; i++) store.put(range(), Buffer.from('0123456789'));
  const last = range();
  store.put(last, Buffer.from('full'));
  assert.equal(last.slab, ranges[0].slab);
  assert.equal(last.offset, 156);
  const next = range();
  store.put(next, Buffer.from('x'));
  assert.notEqual(next.slab, ranges[0].slab);
  assert.equal(next.offset, 0);
  assert.deepEqual(ranges.map(bytesOf), ['first', 'second', 'third']);
  assert.equal(bytesOf(last), 'full');
});

test('a large encoding gets a buffer of its own and leaves the current slab in use', () => {
  const store = new SlabStore(160);
  const small = range();
  store.put(small, Buffer.from('abc'));
  const large = range();
  store.put(large, Buffer.alloc(11, 7)); // over 160 / 16 bytes
  assert.equal(large.slab.length, 11);
  assert.equal(large.offset, 0);
  const after = range();
  store.put(after, Buffer.from('def'));
  assert.equal(after.slab, small.slab);
  assert.equal(after.offset, 3);
});

test('move copies into this store, so the source slab can be let go', () => {
  const pending = new SlabStore(160);
  const kept = new SlabStore(160);
  const r = range();
  pending.put(r, Buffer.from('span'));
  const source = r.slab;
  kept.move(r);
  assert.notEqual(r.slab, source);
  assert.equal(bytesOf(r), 'span');
  source.fill(0);
  assert.equal(bytesOf(r), 'span');
});

test('a bad slab size is refused', () => {
  assert.throws(() => new SlabStore(0), /slabBytes/);
});
