/**
 * Attribute lists (KeyValue ranges gathered by the wire walkers) -> Map(LowCardinality(String),
 * String) rows, with the JSON path's semantics (../wire/any-value-bytes.ts writeAttributes):
 * each value flattened to its text (values.ts anyValueText), a key seen twice keeping its first
 * position and its last value, `__proto__` dropped, every string validated as UTF-8.
 *
 * The KeyValue most SDKs send (key, then one AnyValue holding a string, int, bool or double) is read
 * directly; anything else goes through the JSON path's own AnyValue decoder, whose text is
 * then unquoted, so the two paths cannot disagree on the rare shapes.
 */
import { DEFAULT_SERVICE_NAME } from '../values.ts';
import { ValueBytes, feedValue, finishText, type Ranges } from '../wire/any-value-bytes.ts';
import { skipField } from '../wire/check.ts';
import type { WireCursor } from '../wire/cursor.ts';
import { JsonBytes } from '../wire/json-bytes.ts';
import { KEY_VALUE } from '../wire/specs.ts';
import { checkUtf8 } from '../wire/text.ts';
import { NativeBytes, checkUtf8At, viewOf, viewOfCached } from './bytes.ts';
import { LcMapStream, MapStream } from './columns.ts';
import type { LowCardinalityColumn } from './low-cardinality.ts';

const PROTO_KEY = Buffer.from('__proto__');
const SERVICE_NAME_KEY = Buffer.from('service.name');

// The key of the entry last read by readEntry.
let keyS = 0;
let keyE = 0;
// Where the last varint length read by lengthAt ends.
let lengthEnd = 0;

/** A varint length of at most 3 bytes at b[p] (inside [p, end)), or -1 for anything else. */
function lengthAt(b: Uint8Array, p: number, end: number): number {
  if (p >= end) return -1;
  const b0 = b[p];
  if (b0 < 0x80) {
    lengthEnd = p + 1;
    return b0;
  }
  if (p + 1 >= end) return -1;
  const b1 = b[p + 1];
  if (b1 < 0x80) {
    lengthEnd = p + 2;
    return (b0 & 0x7f) | (b1 << 7);
  }
  if (p + 2 >= end) return -1;
  const b2 = b[p + 2];
  if (b2 < 0x80) {
    lengthEnd = p + 3;
    return (b0 & 0x7f) | ((b1 & 0x7f) << 7) | (b2 << 14);
  }
  return -1;
}

/**
 * The common KeyValue, `key` then one AnyValue holding one string, int, bool or double and nothing else:
 * writes the value's text and sets the key range; anything else returns false having written nothing.
 */
function readSimpleEntry(c: WireCursor, start: number, end: number, values: NativeBytes): boolean {
  const b = c.b;
  if (start >= end || b[start] !== 0x0a) return false;
  const keyLen = lengthAt(b, start + 1, end);
  if (keyLen < 0) return false;
  const ks = lengthEnd;
  const ke = ks + keyLen;
  if (ke >= end || b[ke] !== 0x12) return false;
  const valueLen = lengthAt(b, ke + 1, end);
  const v = lengthEnd;
  if (valueLen < 2 || v + valueLen !== end) return false;
  const inner = b[v];
  if (inner === 0x0a) {
    const strLen = lengthAt(b, v + 1, end);
    if (strLen < 0 || lengthEnd + strLen !== end) return false;
    values.string(b, lengthEnd, end);
  } else if (inner === 0x18) {
    c.pos = v + 1;
    const lo = c.varint(end);
    if (c.pos !== end) return false;
    values.i64Text(c.hi, lo);
  } else if (inner === 0x10) {
    c.pos = v + 1;
    const lo = c.varint(end);
    if (c.pos !== end) return false;
    values.ascii(lo !== 0 || c.hi !== 0 ? 'true' : 'false');
  } else if (inner === 0x21 && v + 9 === end) {
    c.pos = v + 1;
    // values.ts anyValueText: a double as JS prints it (NaN, Infinity, 1e+21, ...).
    values.ascii(String(c.double(end)));
  } else {
    return false;
  }
  keyS = ks;
  keyE = ke;
  return true;
}

// The general path's AnyValue state and the writer its JSON text goes to.
const valueState = new ValueBytes();
const valueJson = new JsonBytes(1 << 12);

/** Any KeyValue, walked as ../wire/any-value-bytes.ts writeKeyValue walks it: the key is its last occurrence, values merge. */
function readEntry(c: WireCursor, start: number, end: number, values: NativeBytes): void {
  if (readSimpleEntry(c, start, end, values)) return;
  let ks = 0;
  let ke = 0;
  c.pos = start;
  while (c.pos < end) {
    const tag = c.tag(end);
    if (tag === 0x0a) {
      const len = c.length(end);
      // A key replaced by a later occurrence is never written, so it is validated now.
      if (ke > ks) checkUtf8(c.b, ks, ke);
      ks = c.pos;
      ke = c.pos += len;
    } else if (tag === 0x12) {
      const len = c.length(end);
      c.pos += len;
    } else {
      skipField(c, tag, end, KEY_VALUE, 0);
    }
  }
  const w = valueJson;
  const st = valueState;
  w.pos = 0;
  st.reset(0);
  c.pos = start;
  while (c.pos < end) {
    const tag = c.tag(end);
    if (tag === 0x12) {
      const len = c.length(end);
      const s = c.pos;
      feedValue(c, w, st, s, s + len, 1);
      c.pos = s + len;
    } else {
      c.skip(tag & 7, tag >>> 3, end);
    }
  }
  // The JSON path's text of the value, as a JSON string literal at [st.start, w.pos): unquoted here.
  finishText(c, w, st);
  const buf = w.buf;
  let escaped = false;
  for (let i = st.start + 1; i < w.pos - 1; i++) {
    if (buf[i] === 0x5c) {
      escaped = true;
      break;
    }
  }
  // finishText validated the string (or wrote ASCII): its bytes are trusted.
  if (escaped) values.utf8(JSON.parse(buf.toString('utf8', st.start, w.pos)) as string);
  else values.stringTrusted(buf, st.start + 1, w.pos - 1);
  keyS = ks;
  keyE = ke;
}

function isKey(b: Uint8Array, s: number, e: number, key: Uint8Array): boolean {
  if (e - s !== key.length) return false;
  for (let i = 0; i < key.length; i++) if (b[s + i] !== key[i]) return false;
  return true;
}

/** The longest text of a number or bool value, with its length prefix ('-9223372036854775808', '-2.2250738585072014e-308'). */
const VALUE_TEXT_MAX = 32;

// Entries of the map being written: key id, and where the value is in the values stream.
let entryIds = new Int32Array(64);
let entryStarts = new Float64Array(64);
let entryEnds = new Float64Array(64);
let rewriteScratch = Buffer.allocUnsafe(1 << 12);

function growEntries(): void {
  const grow = <T extends Int32Array | Float64Array>(a: T, make: (n: number) => T): T => {
    const b = make(a.length * 2);
    b.set(a);
    return b;
  };
  entryIds = grow(entryIds, (n) => new Int32Array(n));
  entryStarts = grow(entryStarts, (n) => new Float64Array(n));
  entryEnds = grow(entryEnds, (n) => new Float64Array(n));
}

/**
 * Appends one map (one row of `m`) of the KeyValues in `ranges`.
 *
 * Most entries are a short key and an AnyValue holding one short string or integer, all lengths
 * one byte: those are matched in place (no calls, no bounds checks per byte: the values stream
 * has room for every entry's text before the loop), the rest go through readEntry.
 */
export function writeMap(c: WireCursor, ranges: Ranges, m: MapStream): void {
  const n = ranges.n;
  if (n === 0) {
    m.endRow(0);
    return;
  }
  const saved = c.pos;
  const a = ranges.a;
  const b = c.b;
  const values = m.values;
  const keys = m.keys;
  const regionStart = values.pos;
  const serial = (m.serial = (m.serial + 1) | 0);
  if (n >> 1 > m.guess.length) m.growGuess((n >> 1) - 1);
  const guess = m.guess;
  // A value's text is at most its entry's bytes, or VALUE_TEXT_MAX for a number or a bool.
  values.ensure(a[n - 1] - a[0] + VALUE_TEXT_MAX * (n >> 1));
  let vb = values.buf;
  let vv = values.dv;
  const sv = viewOfCached(b);
  let seenIn = m.seenIn;
  let entryOf = m.entryOf;
  // The values stream's write position, kept in a local and stored back before any call that writes.
  let vp = values.pos;
  let k = 0;
  let duplicates = false;
  let skipped = false;
  // While every key is its position's guess (and the guesses are known distinct), no duplicate bookkeeping.
  let fast = true;
  const distinct = m.distinctGuesses;
  for (let i = 0; i < n; i += 2) {
    const s = a[i];
    const e = a[i + 1];
    const valueStart = vp;
    let ks = s + 2;
    let ke = 0;
    // 0x0a keyLen key 0x12 valueLen (0x0a strLen str | 0x18 varint), every length below 0x80.
    const keyLen = e - s >= 6 ? b[s + 1] : 0x80;
    const v = ks + keyLen;
    if (b[s] === 0x0a && keyLen < 0x80 && v + 4 <= e && b[v] === 0x12 && b[v + 1] === e - v - 2) {
      const inner = b[v + 2];
      if (inner === 0x0a && b[v + 3] === e - v - 4) {
        vb[vp++] = e - v - 4;
        let high = 0;
        let j = v + 4;
        for (; j + 4 <= e; j += 4, vp += 4) {
          const x = sv.getInt32(j, true);
          high |= x;
          vv.setInt32(vp, x, true);
        }
        for (; j < e; j++) {
          const x = b[j];
          high |= x;
          vb[vp++] = x;
        }
        if ((high & 0x80808080) !== 0) checkUtf8At(b, v + 4, e);
        ke = v;
      } else if (inner === 0x18) {
        c.pos = v + 3;
        const lo = c.varint(e);
        if (c.pos === e) {
          values.pos = vp;
          values.i64Text(c.hi, lo);
          vp = values.pos;
          ke = v;
        }
      }
    }
    if (ke === 0) {
      values.pos = vp;
      readEntry(c, s, e, values);
      ks = keyS;
      ke = keyE;
      // The general path's text (escapes, arrays) may outgrow its entry: room for the rest again.
      if (i + 2 < n) values.ensure(a[n - 1] - a[i + 2] + VALUE_TEXT_MAX * ((n - i) >> 1));
      vb = values.buf;
      vv = values.dv;
      vp = values.pos;
    }
    if (ke - ks === 9 && isKey(b, ks, ke, PROTO_KEY)) {
      // The object mapper's plain object swallows it (its prototype setter).
      vp = valueStart;
      if (fast) seenSoFar(m, k, valueStart);
      fast = false;
      skipped = true;
      continue;
    }
    const at = i >> 1;
    let id = guess[at];
    if (id === 0 || !keys.holds(id, b, sv, ks, ke)) {
      id = guess[at] = keys.id(b, ks, ke);
      if (fast) seenSoFar(m, k, valueStart);
      fast = false;
    }
    if (k + 1 >= entryIds.length) growEntries();
    entryStarts[k] = valueStart;
    if (fast && at < distinct) {
      // Every key so far is the guess at its position, and those guesses are distinct ids: no
      // duplicate is possible, so no bookkeeping (the ids are guess[0, k)).
      k++;
      continue;
    }
    if (fast) {
      seenSoFar(m, k, valueStart);
      fast = false;
    }
    if (id >= seenIn.length) m.coverKeys();
    seenIn = m.seenIn;
    entryOf = m.entryOf;
    if (seenIn[id] === serial) {
      const j = entryOf[id];
      entryStarts[j] = valueStart;
      entryEnds[j] = vp;
      duplicates = true;
    } else {
      seenIn[id] = serial;
      entryOf[id] = k;
      entryIds[k] = id;
      entryEnds[k] = vp;
      k++;
    }
  }
  values.pos = vp;
  if (duplicates) keepLastValues(values, regionStart, k);
  keys.pushIds(fast ? guess : entryIds, k);
  // guess[0, k) now holds this map's ids at their positions: distinct unless a key repeated or one was dropped.
  m.distinctGuesses = duplicates || skipped ? 0 : k;
  m.endRow(k);
  c.pos = saved;
}

/**
 * Leaving the no-bookkeeping path after k entries: records them as the other path would have
 * (their ids are guess[0, k), their values contiguous up to `end`).
 */
function seenSoFar(m: MapStream, k: number, end: number): void {
  const serial = m.serial;
  const guess = m.guess;
  if (m.keys.size > m.seenIn.length) m.coverKeys();
  while (k + 1 >= entryIds.length) growEntries();
  for (let j = 0; j < k; j++) {
    const id = guess[j];
    m.seenIn[id] = serial;
    m.entryOf[id] = j;
    entryIds[j] = id;
    entryEnds[j] = j + 1 < k ? entryStarts[j + 1] : end;
  }
}

/** Rewrites the values from regionStart as the k entries' last values, in entry order (rare: maps with a repeated key). */
function keepLastValues(values: NativeBytes, regionStart: number, k: number): void {
  const len = values.pos - regionStart;
  if (rewriteScratch.length < len) rewriteScratch = Buffer.allocUnsafe(2 * len);
  values.buf.copy(rewriteScratch, 0, regionStart, values.pos);
  values.pos = regionStart;
  for (let j = 0; j < k; j++) values.copy(rewriteScratch, entryStarts[j] - regionStart, entryEnds[j] - regionStart);
}

// Where constant maps are written first; replaced when its key dictionary (which lives as long
// as the process, unlike a batch's) has seen many distinct keys.
let constantScratch = new MapStream();
const CONSTANT_SCRATCH_MAX_KEYS = 4096;
const DEFAULT_SERVICE = Buffer.from(DEFAULT_SERVICE_NAME);

/**
 * A map every row of a ResourceX or ScopeX repeats: encoded once, then written per row as key
 * ids (looked up once per column it goes to) and value bytes, or value ids for a column whose
 * values are LowCardinality too (LcMapStream).
 */
export class ConstantMap {
  private keys: Buffer[] = [];
  /** The raw value bytes, in entry order (for a LowCardinality values column). */
  private valueList: Buffer[] = [];
  /** The values as a String column holds them: VarUInt length, then the bytes, each. */
  private values: Buffer = Buffer.alloc(0);
  private valuesView: DataView = viewOf(this.values);
  /** The text of the `service.name` entry, or unknown_service when absent or empty (values.ts serviceNameOf). */
  serviceName: Buffer = DEFAULT_SERVICE;
  private target: MapStream | LcMapStream | null = null;
  private targetGeneration = 0;
  private targetValuesGeneration = 0;
  private ids = new Int32Array(0);
  private valueIds = new Int32Array(0);

  /** Encodes the KeyValues in `ranges`. */
  load(c: WireCursor, ranges: Ranges): void {
    if (constantScratch.keys.size > CONSTANT_SCRATCH_MAX_KEYS) constantScratch = new MapStream();
    const m = constantScratch;
    m.rollback(); // its mark is the empty state: drops the previous constant
    writeMap(c, ranges, m);
    const k = m.count;
    const keys: Buffer[] = [];
    const valueList: Buffer[] = [];
    let service: Buffer | null = null;
    // The values are k String values in entry order: VarUInt length, then the bytes.
    const values = Buffer.from(m.values.view());
    let p = 0;
    for (let j = 0; j < k; j++) {
      const key = Buffer.from(m.keys.keyBytes(m.keys.valueAt(j)));
      keys.push(key);
      let len = 0;
      for (let factor = 1; ; factor *= 128) {
        const byte = values[p++];
        len += (byte & 0x7f) * factor;
        if (byte < 0x80) break;
      }
      const value = values.subarray(p, p + len);
      valueList.push(value);
      if (isKey(key, 0, key.length, SERVICE_NAME_KEY)) service = value;
      p += len;
    }
    this.keys = keys;
    this.valueList = valueList;
    this.values = values;
    this.valuesView = viewOf(this.values);
    this.serviceName = service !== null && service.length > 0 ? Buffer.from(service) : DEFAULT_SERVICE;
    this.target = null;
  }

  /** Appends the map as one row of `m`. */
  write(m: MapStream | LcMapStream): void {
    const k = this.keys.length;
    const lc = m instanceof LcMapStream;
    if (this.target !== m || this.targetGeneration !== m.keys.generation || (lc && this.targetValuesGeneration !== m.values.generation)) {
      this.target = m;
      this.targetGeneration = m.keys.generation;
      if (this.ids.length < k) this.ids = new Int32Array(k);
      for (let j = 0; j < k; j++) this.ids[j] = m.keys.id(this.keys[j], 0, this.keys[j].length);
      if (lc) {
        this.targetValuesGeneration = m.values.generation;
        if (this.valueIds.length < k) this.valueIds = new Int32Array(k);
        for (let j = 0; j < k; j++) this.valueIds[j] = m.values.id(this.valueList[j], 0, this.valueList[j].length);
      }
    }
    m.keys.pushIds(this.ids, k);
    if (lc) m.values.pushIds(this.valueIds, k);
    else m.values.copy(this.values, 0, this.values.length, this.valuesView);
    m.endRow(k);
  }
}

/** A LowCardinality value every row of a ResourceX or ScopeX repeats: its id looked up once per column. */
export class ConstantString {
  bytes: Buffer = Buffer.alloc(0);
  private target: LowCardinalityColumn | null = null;
  private targetGeneration = 0;
  private id = 0;

  set(bytes: Buffer): void {
    this.bytes = bytes;
    this.target = null;
  }

  idIn(col: LowCardinalityColumn): number {
    if (this.target !== col || this.targetGeneration !== col.generation) {
      this.target = col;
      this.targetGeneration = col.generation;
      this.id = col.id(this.bytes, 0, this.bytes.length);
    }
    return this.id;
  }
}

/** A String column value (VarUInt length + bytes) of the string in a JSON literal (the wire walkers' scope and schema URL text). */
export function stringValueOfJson(json: string): Buffer {
  const w = new NativeBytes(json.length * 3 + 8);
  if (json === '""') w.varuint(0);
  else w.utf8(JSON.parse(json) as string);
  return Buffer.from(w.view());
}

/** The raw UTF-8 bytes of the string in a JSON literal. */
export function bytesOfJson(json: string): Buffer {
  return json === '""' ? Buffer.alloc(0) : Buffer.from(JSON.parse(json) as string, 'utf8');
}
