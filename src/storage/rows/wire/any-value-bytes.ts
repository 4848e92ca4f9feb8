/**
 * AnyValue and attribute lists written as JSON bytes (../values.ts anyValueJson / anyValueText /
 * attributesMap), with protobufjs's decoding semantics: the last oneof member wins, a singular message seen
 * twice merges, so array_value / kvlist_value occurrences in a row concatenate their elements,
 * and nesting is capped at the codec's depth limit).
 *
 * A value is written in place as it is fed: its JSON starts at `start` in the writer; arrays
 * and kvlists append their elements as they are met, and a member that replaces another
 * rewinds the writer to `start`. Every string is validated when written, or when it is
 * replaced before being written.
 */
import { wireError } from '../../../otlp/index.ts';
import { MAX_ANY_VALUE_DEPTH, skipField } from './check.ts';
import type { WireCursor } from './cursor.ts';
import { JsonBytes, fragment, isBytes, sameBytes } from './json-bytes.ts';
import { ANY_VALUE, ARRAY_VALUE, KEY_VALUE, KEY_VALUE_LIST } from './specs.ts';
import { checkUtf8 } from './text.ts';

const M_NONE = 0;
const M_STRING = 1;
const M_BOOL = 2;
const M_INT = 3;
const M_DOUBLE = 4;
const M_ARRAY = 5;
const M_KVLIST = 6;
const M_BYTES = 7;

const TRUE = fragment('true');
const FALSE = fragment('false');
const NULL = fragment('null');
const Q_TRUE = fragment('"true"');
const Q_FALSE = fragment('"false"');
const EMPTY_STRING = fragment('""');
const EMPTY_OBJECT = fragment('{}');
const PROTO_KEY = fragment('"__proto__"');
const SERVICE_NAME_KEY = fragment('"service.name"');

/** Byte ranges (start, end pairs) of the KeyValue messages of one attribute list, gathered while walking its owner. */
export class Ranges {
  a: number[] = [];
  n = 0;

  push(start: number, end: number): void {
    this.a[this.n++] = start;
    this.a[this.n++] = end;
  }

  /** Records the length-delimited field at the cursor (after its tag) and moves past it. */
  pushField(c: WireCursor, end: number): void {
    const len = c.length(end);
    this.a[this.n++] = c.pos;
    this.a[this.n++] = c.pos += len;
  }
}

/** One AnyValue being decoded (possibly from several merged occurrences). */
export class ValueBytes {
  member = M_NONE;
  /** String or bytes member: its range in the input. */
  s = 0;
  e = 0;
  lo = 0;
  hi = 0;
  dbl = 0;
  /** Where this value's JSON starts in the writer. */
  start = 0;
  /** Elements (array) or entries (kvlist) written so far. */
  count = 0;

  reset(start: number): void {
    this.member = M_NONE;
    this.start = start;
    this.count = 0;
  }
}

/** One state per AnyValue depth: a level finishes before its parent continues. */
const STATES: ValueBytes[] = [];
for (let i = 0; i <= MAX_ANY_VALUE_DEPTH + 1; i++) STATES.push(new ValueBytes());

/** A string member about to be replaced is never written, so it is validated now. */
function leave(c: WireCursor, st: ValueBytes): void {
  if (st.member === M_STRING) checkUtf8(c.b, st.s, st.e);
}

/** Feeds one occurrence [start, end) of an AnyValue at nesting `depth` into `st`, writing nested elements to `w`. */
export function feedValue(c: WireCursor, w: JsonBytes, st: ValueBytes, start: number, end: number, depth: number): void {
  if (depth > MAX_ANY_VALUE_DEPTH) throw wireError(`AnyValue nested deeper than ${MAX_ANY_VALUE_DEPTH} levels`, start);
  c.pos = start;
  while (c.pos < end) {
    const tag = c.tag(end);
    switch (tag) {
      case 0x0a: {
        const len = c.length(end);
        leave(c, st);
        st.s = c.pos;
        st.e = c.pos += len;
        st.member = M_STRING;
        break;
      }
      case 0x10: {
        const lo = c.varint(end);
        leave(c, st);
        st.lo = lo !== 0 || c.hi !== 0 ? 1 : 0;
        st.member = M_BOOL;
        break;
      }
      case 0x18:
        st.lo = c.varint(end);
        leave(c, st);
        st.hi = c.hi;
        st.member = M_INT;
        break;
      case 0x21:
        st.dbl = c.double(end);
        leave(c, st);
        st.member = M_DOUBLE;
        break;
      case 0x2a:
      case 0x32: {
        const len = c.length(end);
        const s = c.pos;
        const member = tag === 0x2a ? M_ARRAY : M_KVLIST;
        leave(c, st);
        if (st.member !== member) {
          w.pos = st.start;
          w.byte(member === M_ARRAY ? 0x5b : 0x7b);
          st.count = 0;
        }
        st.member = member;
        if (member === M_ARRAY) feedArray(c, w, st, s, s + len, depth);
        else feedKvList(c, w, st, s, s + len, depth);
        c.pos = s + len;
        break;
      }
      case 0x3a: {
        const len = c.length(end);
        leave(c, st);
        st.s = c.pos;
        st.e = c.pos += len;
        st.member = M_BYTES;
        break;
      }
      default:
        skipField(c, tag, end, ANY_VALUE, depth);
    }
  }
}

function feedArray(c: WireCursor, w: JsonBytes, st: ValueBytes, start: number, end: number, depth: number): void {
  c.pos = start;
  while (c.pos < end) {
    const tag = c.tag(end);
    if (tag === 0x0a) {
      const len = c.length(end);
      const s = c.pos;
      if (st.count++ !== 0) w.byte(0x2c);
      const child = STATES[depth + 1];
      child.reset(w.pos);
      feedValue(c, w, child, s, s + len, depth + 1);
      finishJson(c, w, child);
      c.pos = s + len;
    } else {
      skipField(c, tag, end, ARRAY_VALUE, depth);
    }
  }
}

function feedKvList(c: WireCursor, w: JsonBytes, st: ValueBytes, start: number, end: number, depth: number): void {
  c.pos = start;
  while (c.pos < end) {
    const tag = c.tag(end);
    if (tag === 0x0a) {
      const len = c.length(end);
      const s = c.pos;
      if (st.count++ !== 0) w.byte(0x2c);
      const child = STATES[depth + 1];
      writeKeyValue(c, w, child, s, s + len, depth + 1);
      finishJson(c, w, child);
      c.pos = s + len;
    } else {
      skipField(c, tag, end, KEY_VALUE_LIST, depth);
    }
  }
}

/**
 * Writes the KeyValue in [start, end) as `"key":` and feeds its (merged) value into `st`, which
 * starts right after the colon. The key is the last occurrence of field 1, so a first pass finds it.
 */
function writeKeyValue(c: WireCursor, w: JsonBytes, st: ValueBytes, start: number, end: number, depth: number): void {
  let keyS = 0;
  let keyE = 0;
  c.pos = start;
  while (c.pos < end) {
    const tag = c.tag(end);
    if (tag === 0x0a) {
      const len = c.length(end);
      if (keyE > keyS) checkUtf8(c.b, keyS, keyE);
      keyS = c.pos;
      keyE = c.pos += len;
    } else if (tag === 0x12) {
      const len = c.length(end);
      c.pos += len;
    } else {
      skipField(c, tag, end, KEY_VALUE, depth - 1);
    }
  }
  w.jsonString(c.b, keyS, keyE);
  w.byte(0x3a);
  st.reset(w.pos);
  c.pos = start;
  while (c.pos < end) {
    const tag = c.tag(end);
    if (tag === 0x12) {
      const len = c.length(end);
      const s = c.pos;
      feedValue(c, w, st, s, s + len, depth);
      c.pos = s + len;
    } else {
      c.skip(tag & 7, tag >>> 3, end);
    }
  }
}

/** Writes values.ts anyValueJson of the fed value at st.start. */
export function finishJson(c: WireCursor, w: JsonBytes, st: ValueBytes): void {
  switch (st.member) {
    case M_ARRAY:
      w.byte(0x5d);
      return;
    case M_KVLIST:
      w.byte(0x7d);
      return;
  }
  w.pos = st.start;
  switch (st.member) {
    case M_STRING:
      w.jsonString(c.b, st.s, st.e);
      break;
    case M_BOOL:
      w.raw(st.lo !== 0 ? TRUE : FALSE);
      break;
    case M_INT:
      w.i64(st.hi, st.lo);
      break;
    case M_DOUBLE:
      w.latin1(st.dbl - st.dbl === 0 ? String(st.dbl) : '"' + String(st.dbl) + '"');
      break;
    case M_BYTES:
      w.latin1(st.s === st.e ? '""' : '"' + c.b.base64Slice(st.s, st.e) + '"');
      break;
    default:
      w.raw(NULL);
  }
}

/** Writes the JSON string literal of values.ts anyValueText of the fed value at st.start (a Map(String, String) cell). */
export function finishText(c: WireCursor, w: JsonBytes, st: ValueBytes): void {
  switch (st.member) {
    case M_ARRAY:
    case M_KVLIST:
      finishJson(c, w, st);
      w.quoteRegion(st.start);
      return;
  }
  w.pos = st.start;
  switch (st.member) {
    case M_STRING:
      w.jsonString(c.b, st.s, st.e);
      break;
    case M_BOOL:
      w.raw(st.lo !== 0 ? Q_TRUE : Q_FALSE);
      break;
    case M_INT:
      w.byte(0x22);
      w.i64(st.hi, st.lo);
      w.byte(0x22);
      break;
    case M_DOUBLE:
      // Numbers hold no character JSON escapes.
      w.latin1('"' + String(st.dbl) + '"');
      break;
    case M_BYTES:
      w.latin1(st.s === st.e ? '""' : '"' + c.b.base64Slice(st.s, st.e) + '"');
      break;
    default:
      w.raw(EMPTY_STRING);
  }
}

/** A standalone AnyValue (a log body): resets `st` to start at the writer's position. */
export function startValue(w: JsonBytes, st: ValueBytes): void {
  st.reset(w.pos);
}

export function isStringMember(st: ValueBytes): boolean {
  return st.member === M_STRING;
}

// Entries of the map being written: key and value ranges in the writer.
const keyStarts: number[] = [];
const keyEnds: number[] = [];
const valueStarts: number[] = [];
const valueEnds: number[] = [];
let scratch = Buffer.allocUnsafe(1 << 16);

/** Set by writeAttributes when asked: the text of the `service.name` attribute, or undefined. */
export let serviceName: string | undefined;

/**
 * Writes the JSON object of a Map(String, String) attributes column (values.ts attributesMap):
 * a key seen twice keeps its first position and its last value; `__proto__` is dropped (a plain
 * object's prototype setter swallows it there). The ranges' bytes are validated here.
 */
export function writeAttributes(c: WireCursor, w: JsonBytes, ranges: Ranges, wantServiceName: boolean): void {
  const n = ranges.n;
  serviceName = undefined;
  if (n === 0) {
    w.raw(EMPTY_OBJECT);
    return;
  }
  const saved = c.pos;
  const a = ranges.a;
  const st = STATES[1];
  const bodyStart = w.pos + 1;
  w.byte(0x7b);
  let m = 0;
  let duplicates = false;
  for (let i = 0; i < n; i += 2) {
    const entryStart = w.pos;
    if (m !== 0) w.byte(0x2c);
    const keyStart = w.pos;
    if (!writeSimpleKeyValue(c.b, w, st, a[i], a[i + 1])) {
      writeKeyValue(c, w, st, a[i], a[i + 1], 1);
      finishText(c, w, st);
    }
    const keyEnd = st.start - 1;
    const buf = w.buf;
    if (isBytes(buf, keyStart, keyEnd, PROTO_KEY)) {
      w.pos = entryStart;
      continue;
    }
    if (wantServiceName && isBytes(buf, keyStart, keyEnd, SERVICE_NAME_KEY)) {
      serviceName = JSON.parse(buf.toString('utf8', st.start, w.pos)) as string;
    }
    let j = 0;
    while (j < m && !sameBytes(buf, keyStarts[j], keyEnds[j], keyStart, keyEnd)) j++;
    if (j === m) {
      keyStarts[m] = keyStart;
      keyEnds[m] = keyEnd;
      m++;
    } else {
      duplicates = true;
    }
    valueStarts[j] = st.start;
    valueEnds[j] = w.pos;
  }
  if (duplicates) rewriteEntries(w, bodyStart, m);
  w.byte(0x7d);
  c.pos = saved;
}

/**
 * The KeyValue most SDKs send, `key` then one AnyValue holding one string or int, all lengths
 * below 128: written without the general walk (same output; anything else returns false
 * having written nothing). Leaves st.start where the value starts, as writeKeyValue does.
 */
function writeSimpleKeyValue(b: Buffer, w: JsonBytes, st: ValueBytes, start: number, end: number): boolean {
  if (b[start] !== 0x0a) return false;
  const keyLen = b[start + 1];
  const keyS = start + 2;
  const keyE = keyS + keyLen;
  // keyLen < 0x80 (one-byte length) and the value's tag and length fit before end.
  if (keyLen >= 0x80 || keyE + 2 > end || b[keyE] !== 0x12) return false;
  const valueLen = b[keyE + 1];
  const v = keyE + 2;
  if (valueLen >= 0x80 || v + valueLen !== end || valueLen < 2) return false;
  const inner = b[v];
  if (inner === 0x0a) {
    const strLen = b[v + 1];
    if (strLen >= 0x80 || v + 2 + strLen !== end) return false;
    w.jsonString(b, keyS, keyE);
    w.byte(0x3a);
    st.start = w.pos;
    w.jsonString(b, v + 2, end);
    return true;
  }
  if (inner === 0x18) {
    // A varint filling the rest of the value: at most 5 bytes, so the halves are cheap to take.
    let lo = 0;
    let k = v + 1;
    let shift = 0;
    // A running factor: 2 ** shift with a variable shift is a call to pow().
    for (let factor = 1; k < end && shift < 35; k++, shift += 7, factor *= 128) {
      const byte = b[k];
      lo += (byte & 0x7f) * factor;
      if (byte < 0x80) break;
    }
    // Only a varint below 2^31 ending exactly at `end` takes this path.
    if (k !== end - 1 || b[k] >= 0x80 || lo >= 0x80000000) return false;
    w.jsonString(b, keyS, keyE);
    w.byte(0x3a);
    st.start = w.pos;
    w.byte(0x22);
    w.uint(lo);
    w.byte(0x22);
    return true;
  }
  return false;
}

/** Rewrites the map body from bodyStart as its m unique entries (rare: only maps with a repeated key). */
function rewriteEntries(w: JsonBytes, bodyStart: number, m: number): void {
  const len = w.pos - bodyStart;
  if (scratch.length < len) scratch = Buffer.allocUnsafe(len * 2);
  w.buf.copy(scratch, 0, bodyStart, w.pos);
  w.pos = bodyStart;
  for (let j = 0; j < m; j++) {
    if (j !== 0) w.byte(0x2c);
    w.copy(scratch, keyStarts[j] - bodyStart, keyEnds[j] - bodyStart);
    w.byte(0x3a);
    w.copy(scratch, valueStarts[j] - bodyStart, valueEnds[j] - bodyStart);
  }
}

// Where checkAttributes writes what it throws away.
const discard = new JsonBytes(1 << 12);

/** Walks a KeyValue list only to validate it (attributes a table does not store): writeAttributes, output dropped. */
export function checkAttributes(c: WireCursor, ranges: Ranges): void {
  discard.pos = 0;
  writeAttributes(c, discard, ranges, false);
}
