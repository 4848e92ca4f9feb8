/**
 * AnyValue and attribute lists, from wire bytes to the text the row mappers produce
 * (../values.ts anyValueText / anyValueJson / attributesMap), with protobufjs's decoding
 * semantics: the last oneof member set wins, a singular message seen twice is merged (so an
 * array_value or kvlist_value repeated in a row concatenates its elements), and AnyValue nesting
 * is capped at the codec's depth limit.
 */
import { wireError } from '../../../otlp/index.ts';
import { MAX_ANY_VALUE_DEPTH, skipField } from './check.ts';
import type { WireCursor } from './cursor.ts';
import { i64Text } from './numbers.ts';
import { ANY_VALUE, ARRAY_VALUE, KEY_VALUE, KEY_VALUE_LIST } from './specs.ts';
import { base64At, jsonQuote, lastNeedsEscape, readString } from './text.ts';

const M_NONE = 0;
const M_STRING = 1;
const M_BOOL = 2;
const M_INT = 3;
const M_DOUBLE = 4;
const M_ARRAY = 5;
const M_KVLIST = 6;
const M_BYTES = 7;

/** One AnyValue being decoded (possibly from several merged occurrences). */
export class AnyValueState {
  member = M_NONE;
  str = '';
  strEscape = false;
  lo = 0;
  hi = 0;
  dbl = 0;
  bytesStart = 0;
  bytesEnd = 0;
  /** JSON of the elements (array) or entries (kvlist) so far, comma-separated. */
  inner = '';
  innerCount = 0;

  reset(): void {
    this.member = M_NONE;
    this.inner = '';
    this.innerCount = 0;
  }
}

/** One state per AnyValue depth: rendering finishes a level before its parent continues. */
const STATES: AnyValueState[] = [];
for (let i = 0; i <= MAX_ANY_VALUE_DEPTH + 1; i++) STATES.push(new AnyValueState());

/** Feeds one occurrence [start, end) of an AnyValue at nesting `depth` (1 = an attribute's value) into `st`. */
export function feedAnyValue(c: WireCursor, st: AnyValueState, start: number, end: number, depth: number): void {
  if (depth > MAX_ANY_VALUE_DEPTH) throw wireError(`AnyValue nested deeper than ${MAX_ANY_VALUE_DEPTH} levels`, start);
  c.pos = start;
  while (c.pos < end) {
    const tag = c.tag(end);
    switch (tag) {
      case 0x0a: {
        // string_value
        const len = c.length(end);
        const s = c.pos;
        c.pos = s + len;
        st.str = readString(c.b, s, s + len);
        st.strEscape = lastNeedsEscape;
        st.member = M_STRING;
        break;
      }
      case 0x10: {
        // bool_value
        const lo = c.varint(end);
        st.lo = lo !== 0 || c.hi !== 0 ? 1 : 0;
        st.member = M_BOOL;
        break;
      }
      case 0x18:
        // int_value
        st.lo = c.varint(end);
        st.hi = c.hi;
        st.member = M_INT;
        break;
      case 0x21:
        // double_value
        st.dbl = c.double(end);
        st.member = M_DOUBLE;
        break;
      case 0x2a: {
        // array_value: merged with a directly preceding array_value
        const len = c.length(end);
        const s = c.pos;
        if (st.member !== M_ARRAY) {
          st.inner = '';
          st.innerCount = 0;
        }
        st.member = M_ARRAY;
        feedArray(c, st, s, s + len, depth);
        c.pos = s + len;
        break;
      }
      case 0x32: {
        // kvlist_value
        const len = c.length(end);
        const s = c.pos;
        if (st.member !== M_KVLIST) {
          st.inner = '';
          st.innerCount = 0;
        }
        st.member = M_KVLIST;
        feedKvList(c, st, s, s + len, depth);
        c.pos = s + len;
        break;
      }
      case 0x3a: {
        // bytes_value
        const len = c.length(end);
        st.bytesStart = c.pos;
        st.bytesEnd = c.pos + len;
        c.pos += len;
        st.member = M_BYTES;
        break;
      }
      default:
        skipField(c, tag, end, ANY_VALUE, depth);
    }
  }
}

function feedArray(c: WireCursor, st: AnyValueState, start: number, end: number, depth: number): void {
  c.pos = start;
  while (c.pos < end) {
    const tag = c.tag(end);
    if (tag === 0x0a) {
      const len = c.length(end);
      const s = c.pos;
      const child = STATES[depth + 1];
      child.reset();
      feedAnyValue(c, child, s, s + len, depth + 1);
      c.pos = s + len;
      st.inner += st.innerCount++ === 0 ? anyJson(c, child) : ',' + anyJson(c, child);
    } else {
      skipField(c, tag, end, ARRAY_VALUE, depth);
    }
  }
}

function feedKvList(c: WireCursor, st: AnyValueState, start: number, end: number, depth: number): void {
  c.pos = start;
  while (c.pos < end) {
    const tag = c.tag(end);
    if (tag === 0x0a) {
      const len = c.length(end);
      const s = c.pos;
      const child = STATES[depth + 1];
      const keyJson = readKeyValue(c, child, s, s + len, depth + 1);
      c.pos = s + len;
      const entry = keyJson + ':' + anyJson(c, child);
      st.inner += st.innerCount++ === 0 ? entry : ',' + entry;
    } else {
      skipField(c, tag, end, KEY_VALUE_LIST, depth);
    }
  }
}

/**
 * Walks a KeyValue in [start, end): returns its key as a JSON string literal and leaves its
 * (merged) value in `st`, at nesting `depth`.
 */
function readKeyValue(c: WireCursor, st: AnyValueState, start: number, end: number, depth: number): string {
  st.reset();
  let keyJson = '""';
  c.pos = start;
  while (c.pos < end) {
    const tag = c.tag(end);
    if (tag === 0x0a) {
      const len = c.length(end);
      const s = c.pos;
      c.pos = s + len;
      const key = readString(c.b, s, s + len);
      keyJson = lastNeedsEscape ? JSON.stringify(key) : '"' + key + '"';
    } else if (tag === 0x12) {
      const len = c.length(end);
      const s = c.pos;
      feedAnyValue(c, st, s, s + len, depth);
      c.pos = s + len;
    } else {
      skipField(c, tag, end, KEY_VALUE, depth - 1);
    }
  }
  return keyJson;
}

/** values.ts anyValueJson of the decoded value. */
export function anyJson(c: WireCursor, st: AnyValueState): string {
  switch (st.member) {
    case M_STRING:
      return st.strEscape ? JSON.stringify(st.str) : '"' + st.str + '"';
    case M_BOOL:
      return st.lo !== 0 ? 'true' : 'false';
    case M_INT:
      return i64Text(st.hi, st.lo);
    case M_DOUBLE:
      return st.dbl - st.dbl === 0 ? String(st.dbl) : '"' + String(st.dbl) + '"';
    case M_ARRAY:
      return '[' + st.inner + ']';
    case M_KVLIST:
      return '{' + st.inner + '}';
    case M_BYTES:
      return '"' + base64At(c.b, st.bytesStart, st.bytesEnd) + '"';
    default:
      return 'null';
  }
}

/** values.ts anyValueText of the decoded value. */
export function anyText(c: WireCursor, st: AnyValueState): string {
  switch (st.member) {
    case M_STRING:
      return st.str;
    case M_BOOL:
      return st.lo !== 0 ? 'true' : 'false';
    case M_INT:
      return i64Text(st.hi, st.lo);
    case M_DOUBLE:
      return String(st.dbl);
    case M_ARRAY:
    case M_KVLIST:
      return anyJson(c, st);
    case M_BYTES:
      return base64At(c.b, st.bytesStart, st.bytesEnd);
    default:
      return '';
  }
}

/** JSON string literal of anyText (a Map(String, String) cell). */
function anyTextJson(c: WireCursor, st: AnyValueState): string {
  switch (st.member) {
    case M_STRING:
      return st.strEscape ? JSON.stringify(st.str) : '"' + st.str + '"';
    case M_ARRAY:
    case M_KVLIST:
      return JSON.stringify(anyJson(c, st));
    case M_NONE:
      return '""';
    default:
      // Numbers, true/false and base64 hold no character JSON escapes.
      return '"' + anyText(c, st) + '"';
  }
}

export function isStringValue(st: AnyValueState): boolean {
  return st.member === M_STRING;
}

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

// Scratch for one map being rendered (maps are rendered one at a time).
const mapKeys: string[] = [];
const mapValues: string[] = [];

/** Set by attributesJson when asked: the text of the `service.name` attribute, or undefined. */
export let lastServiceName: string | undefined;

const SERVICE_NAME_JSON = '"service.name"';
// attributesMap assigns into a plain object, where the key __proto__ hits the prototype setter
// and is dropped; kept identical here.
const PROTO_JSON = '"__proto__"';

/**
 * The JSON object of a Map(String, String) attributes column (values.ts attributesMap): a key
 * seen twice keeps its first position and its last value. The ranges' bytes are validated here.
 */
export function attributesJson(c: WireCursor, ranges: Ranges, wantServiceName: boolean): string {
  const n = ranges.n;
  lastServiceName = undefined;
  if (n === 0) return '{}';
  const saved = c.pos;
  const a = ranges.a;
  const st = STATES[1];
  let m = 0;
  for (let i = 0; i < n; i += 2) {
    const keyJson = readKeyValue(c, st, a[i], a[i + 1], 1);
    if (keyJson === PROTO_JSON) continue;
    const valueJson = anyTextJson(c, st);
    if (wantServiceName && keyJson === SERVICE_NAME_JSON) lastServiceName = anyText(c, st);
    let j = 0;
    while (j < m && mapKeys[j] !== keyJson) j++;
    if (j === m) {
      mapKeys[m] = keyJson;
      m++;
    }
    mapValues[j] = valueJson;
  }
  c.pos = saved;
  let out = '{';
  for (let j = 0; j < m; j++) out += (j === 0 ? '' : ',') + mapKeys[j] + ':' + mapValues[j];
  return out + '}';
}

/** Walks a KeyValue list only to validate it (attributes a table does not store). */
export function checkAttributes(c: WireCursor, ranges: Ranges): void {
  const saved = c.pos;
  const a = ranges.a;
  for (let i = 0; i < ranges.n; i += 2) readKeyValue(c, STATES[1], a[i], a[i + 1], 1);
  c.pos = saved;
}

/** A standalone AnyValue (a log body), fed occurrence by occurrence. */
export const bodyState = new AnyValueState();
export { jsonQuote };
