/**
 * A LowCardinality(String) column stream: a dictionary of distinct strings and one index per
 * value, serialized as ClickHouse's Native format does (SerializationLowCardinality, checked
 * against chDB's own output in native.test.ts):
 *
 *   prefix (before every stream of the enclosing column): UInt64 1 (shared dictionaries with additional keys)
 *   data, only when there is at least one value:
 *     UInt64 flags: index width (0 = UInt8, 1 = UInt16, 2 = UInt32) | HasAdditionalKeys (1 << 9) | NeedUpdateDictionary (1 << 10)
 *     UInt64 number of keys, then the keys as a String column (key 0 is '', as ClickHouse writes it)
 *     UInt64 number of values, then one index per value
 *
 * The dictionary is keyed by bytes (an open-addressing hash table over the serialized keys), so
 * no JS string is made per value. A string is validated as UTF-8 once, when it first enters the
 * dictionary: later equal bytes are then valid too.
 */
import { NativeBytes, checkUtf8At } from './bytes.ts';

const HAS_ADDITIONAL_KEYS = 1 << 9;
const NEED_UPDATE_DICTIONARY = 1 << 10;

const EMPTY = new Uint8Array(0);

function hashBytes(src: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5 ^ (end - start);
  for (let i = start; i < end; i++) h = Math.imul(h ^ src[i], 0x01000193);
  return h ^ (h >>> 15);
}

export class LowCardinalityColumn {
  /** The keys, serialized as a String column (VarUInt length + bytes each). */
  readonly keys = new NativeBytes(1 << 12);
  /** Where each key's bytes start in `keys`, and their length. */
  private keyStart = new Int32Array(64);
  private keyLen = new Int32Array(64);
  private keyHash = new Int32Array(64);
  /** Number of keys. */
  size = 0;
  /** Hash slots: 0 empty, else key id + 1. */
  private slots = new Int32Array(128);
  /** One key id per value. */
  private idx = new Uint32Array(1 << 10);
  /** Number of values. */
  n = 0;
  private markN = 0;
  /** Keys that stay through reset() (constants whose ids the encoders hold). */
  private pinned = 1;
  /** Bumped by reset(): ids looked up before it are void. */
  generation = 0;

  constructor() {
    this.add(EMPTY, 0, 0);
  }

  /** Keeps every key added so far through reset(), under the same ids. */
  pin(): void {
    this.pinned = this.size;
  }

  /** No values, and only the pinned keys: the buffers stay for the next batch. */
  reset(): void {
    this.n = this.markN = 0;
    this.generation++;
    if (this.size === this.pinned) return;
    this.size = this.pinned;
    this.keys.pos = this.keyStart[this.size - 1] + this.keyLen[this.size - 1];
    this.keys.mark();
    this.slots.fill(0);
    for (let k = 0; k < this.size; k++) this.place(k);
  }

  capacity(): number {
    return this.keys.capacity() + 4 * (3 * this.keyStart.length + this.slots.length + this.idx.length);
  }

  /** The id of the string in src[start, end), added to the dictionary (validated) when new. */
  id(src: Uint8Array, start: number, end: number): number {
    const len = end - start;
    if (len === 0) return 0;
    const h = hashBytes(src, start, end);
    const mask = this.slots.length - 1;
    const kb = this.keys.buf;
    for (let s = h & mask; ; s = (s + 1) & mask) {
      const slot = this.slots[s];
      if (slot === 0) break;
      const k = slot - 1;
      if (this.keyHash[k] !== h || this.keyLen[k] !== len) continue;
      const ks = this.keyStart[k];
      let i = 0;
      while (i < len && kb[ks + i] === src[start + i]) i++;
      if (i === len) return k;
    }
    checkUtf8At(src, start, end);
    return this.add(src, start, end, h);
  }

  /** Whether key k holds exactly the bytes src[start, end) (a cheap check of a predicted id); `view` is viewOf(src). */
  holds(k: number, src: Uint8Array, view: DataView, start: number, end: number): boolean {
    const len = end - start;
    if (k >= this.size || this.keyLen[k] !== len) return false;
    const ks = this.keyStart[k];
    const kv = this.keys.dv;
    let i = 0;
    for (; i + 4 <= len; i += 4) if (kv.getInt32(ks + i, true) !== view.getInt32(start + i, true)) return false;
    const kb = this.keys.buf;
    for (; i < len; i++) if (kb[ks + i] !== src[start + i]) return false;
    return true;
  }

  /** The id of a JS string (constants, the tenant). */
  idOfString(s: string): number {
    const b = Buffer.from(s, 'utf8');
    return this.id(b, 0, b.length);
  }

  private add(src: Uint8Array, start: number, end: number, h = hashBytes(src, start, end)): number {
    const k = this.size++;
    if (k === this.keyStart.length) {
      const grow = (a: Int32Array) => {
        const b = new Int32Array(a.length * 2);
        b.set(a);
        return b;
      };
      this.keyStart = grow(this.keyStart);
      this.keyLen = grow(this.keyLen);
      this.keyHash = grow(this.keyHash);
    }
    this.keys.varuint(end - start);
    this.keyStart[k] = this.keys.pos;
    this.keyLen[k] = end - start;
    this.keyHash[k] = h;
    this.keys.copy(src, start, end);
    if (2 * this.size > this.slots.length) this.rehash();
    else this.place(k);
    return k;
  }

  private place(k: number): void {
    const mask = this.slots.length - 1;
    let s = this.keyHash[k] & mask;
    while (this.slots[s] !== 0) s = (s + 1) & mask;
    this.slots[s] = k + 1;
  }

  private rehash(): void {
    this.slots = new Int32Array(this.slots.length * 2);
    for (let k = 0; k < this.size; k++) this.place(k);
  }

  /** Key k's bytes (a view, valid until the next key is added). */
  keyBytes(k: number): Buffer {
    return this.keys.view(this.keyStart[k], this.keyStart[k] + this.keyLen[k]);
  }

  /** Appends one value. */
  push(id: number): void {
    if (this.n === this.idx.length) {
      const next = new Uint32Array(this.idx.length * 2);
      next.set(this.idx);
      this.idx = next;
    }
    this.idx[this.n++] = id;
  }

  /** Appends the values ids[0, k). */
  pushIds(ids: Int32Array, k: number): void {
    let n = this.n;
    if (n + k > this.idx.length) {
      let length = this.idx.length * 2;
      while (length < n + k) length *= 2;
      const next = new Uint32Array(length);
      next.set(this.idx);
      this.idx = next;
    }
    const idx = this.idx;
    for (let j = 0; j < k; j++) idx[n++] = ids[j];
    this.n = n;
  }

  /** The key id of value i. */
  valueAt(i: number): number {
    return this.idx[i];
  }

  /** Appends the value src[start, end). */
  pushBytes(src: Uint8Array, start: number, end: number): void {
    this.push(this.id(src, start, end));
  }

  mark(): void {
    this.markN = this.n;
  }

  /** Drops the values since mark() (keys added since stay: an unused key is not stored). */
  rollback(): void {
    this.n = this.markN;
  }

  byteSize(): number {
    const width = this.size <= 0x100 ? 0 : this.size <= 0x10000 ? 1 : 2;
    return 8 + (this.n === 0 ? 0 : 24 + this.keys.pos + (this.n << width));
  }

  prefix(out: NativeBytes): void {
    out.u64(0, 1);
  }

  data(out: NativeBytes): void {
    const n = this.n;
    if (n === 0) return;
    const width = this.size <= 0x100 ? 0 : this.size <= 0x10000 ? 1 : 2;
    out.u64(0, width | HAS_ADDITIONAL_KEYS | NEED_UPDATE_DICTIONARY);
    out.u64n(this.size);
    out.append(this.keys);
    out.u64n(n);
    const ids = this.idx;
    out.ensure(n << width);
    const buf = out.buf;
    let p = out.pos;
    // Indexes little-endian whatever the platform's order.
    if (width === 0) {
      for (let i = 0; i < n; i++) buf[p++] = ids[i];
    } else if (width === 1) {
      const dv = out.dv;
      for (let i = 0; i < n; i++, p += 2) dv.setUint16(p, ids[i], true);
    } else {
      const dv = out.dv;
      for (let i = 0; i < n; i++, p += 4) dv.setUint32(p, ids[i], true);
    }
    out.pos = p;
  }
}
