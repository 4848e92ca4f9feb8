/**
 * Protobuf-aware mutation for the fuzz tests. Bytes are parsed, schema-free, into a tree of
 * fields (a length-delimited field whose content parses as a message gets children), mutated
 * there (field numbers, wire types, duplicated or grafted fields, varint values, length
 * prefixes, contents, deep AnyValue nesting) and written back with every enclosing length fixed,
 * so a mutation lands deep inside an otherwise well-formed request; plain byte mutations
 * (flips, insertions, deletions, truncation) then break the framing itself.
 */
import type { Random } from './fuzz-random.ts';
import { varint } from '../../src/otlp/testing.ts';

export { varint };

export interface WireField {
  no: number;
  wt: number;
  /** The bytes after the tag: a varint, 8 or 4 fixed bytes, or (wire type 2) the content without its length. */
  value: Uint8Array;
  /** Wire type 2 content that parsed as a message. */
  children?: WireField[];
  /** Written instead of the true length prefix (wire type 2). */
  lengthPrefix?: Uint8Array;
  /** Written verbatim after the tag instead of value and length (after a wire type change). */
  raw?: Uint8Array;
}


/** A length-delimited field of the concatenated parts. */
export function ld(no: number, ...parts: ArrayLike<number>[]): number[] {
  const body: number[] = [];
  for (const p of parts) for (let i = 0; i < p.length; i++) body.push(p[i]);
  return [...varint(no * 8 + 2), ...varint(body.length), ...body];
}

export function str(no: number, s: string): number[] {
  return ld(no, new TextEncoder().encode(s));
}

/** Deepest message nesting the parser descends into (AnyValue at its depth limit is ~70 levels down). */
const MAX_PARSE_DEPTH = 100;

/** Parses a message, or returns undefined when the bytes are not exactly one (groups count as not). */
export function parseMessage(buf: Uint8Array, depth = 0): WireField[] | undefined {
  const fields: WireField[] = [];
  let pos = 0;
  const readVarint = (maxBytes: number): number | undefined => {
    let value = 0;
    for (let i = 0; i < maxBytes; i++) {
      if (pos >= buf.length) return undefined;
      const b = buf[pos++];
      value += (b & 0x7f) * 2 ** (7 * i);
      if (b < 0x80) return value;
    }
    return undefined;
  };
  while (pos < buf.length) {
    const tag = readVarint(5);
    if (tag === undefined || tag > 0xffffffff || tag < 8) return undefined;
    const no = Math.floor(tag / 8);
    const wt = tag % 8;
    const start = pos;
    if (wt === 0) {
      if (readVarint(10) === undefined) return undefined;
      fields.push({ no, wt, value: buf.subarray(start, pos) });
    } else if (wt === 1 || wt === 5) {
      const width = wt === 1 ? 8 : 4;
      if (buf.length - pos < width) return undefined;
      pos += width;
      fields.push({ no, wt, value: buf.subarray(start, pos) });
    } else if (wt === 2) {
      const len = readVarint(5);
      if (len === undefined || len > buf.length - pos) return undefined;
      const value = buf.subarray(pos, pos + len);
      pos += len;
      const children = len > 0 && depth < MAX_PARSE_DEPTH ? parseMessage(value, depth + 1) : undefined;
      fields.push(children ? { no, wt, value, children } : { no, wt, value });
    } else {
      return undefined;
    }
  }
  return fields;
}

/** Writes fields back; lengths of wire type 2 fields with children are recomputed. */
export function writeMessage(fields: WireField[]): Uint8Array {
  const out: number[] = [];
  write(fields, out);
  return Uint8Array.from(out);
}

function write(fields: WireField[], out: number[]): void {
  for (const f of fields) {
    for (const b of varint(BigInt(f.no) * 8n + BigInt(f.wt))) out.push(b);
    if (f.raw) {
      for (const b of f.raw) out.push(b);
    } else if (f.wt === 2) {
      const content = f.children ? writeMessage(f.children) : f.value;
      for (const b of f.lengthPrefix ?? varint(content.length)) out.push(b);
      for (const b of content) out.push(b);
    } else {
      for (const b of f.value) out.push(b);
    }
  }
}

/** The bytes after the tag, as written. */
function payloadOf(f: WireField): Uint8Array {
  const whole = writeMessage([{ ...f, no: 1 }]);
  return whole.subarray(1);
}

interface Slot {
  parent: WireField[];
  index: number;
}

function slots(fields: WireField[], out: Slot[] = [], parents: WireField[][] = []): { slots: Slot[]; messages: WireField[][] } {
  parents.push(fields);
  for (let i = 0; i < fields.length; i++) {
    out.push({ parent: fields, index: i });
    const children = fields[i].children;
    if (children && !fields[i].raw) slots(children, out, parents);
  }
  return { slots: out, messages: parents };
}

const clone = (f: WireField): WireField => ({ ...f, children: f.children?.map(clone) });

/** Field numbers worth trying: small ones (real OTLP fields), 0 (illegal), the largest legal, and past it. */
const FIELD_NUMBERS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 19000, 2 ** 29 - 1, 2 ** 29, 2 ** 32];

/** Varint payloads: edge values, non-canonical encodings, too long, unterminated. */
const VARINTS: number[][] = [
  varint(0),
  varint(1),
  varint(0x7fffffff),
  varint(0x80000000),
  varint(0xffffffff),
  varint(2n ** 32n),
  varint(2n ** 63n),
  varint(2n ** 64n - 1n),
  overlong(varint(300)), // legal, over-long
  [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f], // 10 bytes past 64 bits
  [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01], // 11 bytes
  [0x80], // unterminated: swallows what follows
];

/** The same value with one redundant continuation byte (legal protobuf, rarely seen). */
function overlong(canonical: number[]): number[] {
  const out = canonical.slice();
  out[out.length - 1] |= 0x80;
  out.push(0x00);
  return out;
}

/** Length prefixes relative to the true length `n`, and absolute huge ones. */
function lengthPrefixes(n: number): number[][] {
  return [
    varint(n + 1),
    varint(Math.max(0, n - 1)),
    varint(n + 1000),
    varint(0),
    varint(0x7fffffff),
    varint(0xffffffff),
    varint(2n ** 32n),
    varint(2n ** 63n),
    overlong(varint(n)), // the true length, over-long but legal
    [0xff, 0xff, 0xff, 0xff, 0x0f],
  ];
}

/** Contents for a length-delimited field: junk, broken UTF-8, and hostile nesting. */
function contentFor(rand: Random): Uint8Array {
  switch (rand.int(9)) {
    case 0:
      return new Uint8Array(0);
    case 1:
      return rand.bytes(rand.range(1, 32));
    case 2:
      return Uint8Array.of(0xc3, 0x28); // invalid UTF-8
    case 3:
      return Uint8Array.of(0x61, 0xed, 0xa0, 0x80); // UTF-8 of a lone surrogate
    case 4:
      return Uint8Array.of(0xc0, 0xaf); // over-long UTF-8
    case 5:
      return Uint8Array.from(nestedAnyValueContent(rand.pick([31, 32, 33, 200, 10_000]), rand.chance(0.5) ? 'array' : 'kvlist'));
    case 6:
      return Uint8Array.from([...varint(8 * rand.range(1, 15) + 3), ...varint(8 * rand.range(1, 15) + 4)]); // a group
    case 7:
      return new TextEncoder().encode('x'.repeat(rand.range(1, 3000)));
    default:
      return Uint8Array.of(0x0a, 0x00, 0x12, 0x00, 0x1a, 0x00); // empty sub-messages
  }
}

/**
 * The content of an AnyValue nested `depth` levels deep (depth 1 is a plain string), through
 * array_value (AnyValue.5 -> ArrayValue.1) or kvlist_value (AnyValue.6 -> KeyValueList.1 ->
 * KeyValue{1: key, 2: value}). Built inside out and reversed, so 10,000 levels cost linear time.
 */
export function nestedAnyValueContent(depth: number, via: 'array' | 'kvlist'): number[] {
  const rev = str(1, 'leaf').reverse();
  const pushPrefix = (prefix: number[]) => {
    for (let i = prefix.length - 1; i >= 0; i--) rev.push(prefix[i]);
  };
  for (let level = 1; level < depth; level++) {
    if (via === 'array') {
      pushPrefix([...varint(1 * 8 + 2), ...varint(rev.length)]); // ArrayValue.values
      pushPrefix([...varint(5 * 8 + 2), ...varint(rev.length)]); // AnyValue.array_value
    } else {
      pushPrefix([0x0a, 0x01, 0x6b, ...varint(2 * 8 + 2), ...varint(rev.length)]); // KeyValue{key 'k', value}
      pushPrefix([...varint(1 * 8 + 2), ...varint(rev.length)]); // KeyValueList.values
      pushPrefix([...varint(6 * 8 + 2), ...varint(rev.length)]); // AnyValue.kvlist_value
    }
  }
  return rev.reverse();
}

/** What a tree mutation did, for failure messages. */
export type TreeMutation = 'field-number' | 'wire-type' | 'duplicate' | 'delete' | 'graft' | 'varint' | 'length' | 'content' | 'fixed';

function mutateTree(fields: WireField[], rand: Random): TreeMutation | undefined {
  const { slots: all, messages } = slots(fields);
  if (all.length === 0) return undefined;
  const { parent, index } = rand.pick(all);
  const f = parent[index];
  const kinds: TreeMutation[] = ['field-number', 'wire-type', 'duplicate', 'delete', 'graft'];
  if (f.wt === 0 && !f.raw) kinds.push('varint', 'varint');
  if (f.wt === 2 && !f.raw) kinds.push('length', 'length', 'content', 'content');
  if ((f.wt === 1 || f.wt === 5) && !f.raw) kinds.push('fixed');
  const kind = rand.pick(kinds);
  switch (kind) {
    case 'field-number':
      f.no = rand.pick(FIELD_NUMBERS);
      break;
    case 'wire-type': {
      // The payload stays as it was written: the decoder must read it under the other type.
      f.raw = payloadOf(f);
      f.wt = (f.wt + rand.range(1, 7)) % 8;
      break;
    }
    case 'duplicate':
      parent.splice(rand.int(parent.length + 1), 0, clone(f));
      break;
    case 'delete':
      parent.splice(index, 1);
      break;
    case 'graft':
      rand.pick(messages).splice(rand.int(parent.length + 1), 0, clone(f));
      break;
    case 'varint':
      f.value = Uint8Array.from(rand.pick(VARINTS));
      break;
    case 'length':
      f.lengthPrefix = Uint8Array.from(rand.pick(lengthPrefixes((f.children ? writeMessage(f.children) : f.value).length)));
      break;
    case 'content':
      f.children = undefined;
      f.value = contentFor(rand);
      break;
    case 'fixed': {
      const v = new DataView(new ArrayBuffer(8));
      v.setFloat64(0, rand.pick([NaN, Infinity, -Infinity, -0, 1e308, 5e-324, -1]), true);
      f.value = f.wt === 1 ? new Uint8Array(v.buffer) : rand.bytes(4);
      break;
    }
  }
  return kind;
}

export type ByteMutation = 'flip' | 'set' | 'insert' | 'delete' | 'truncate' | 'duplicate';

function mutateBytes(input: Uint8Array, rand: Random): [Uint8Array, ByteMutation] {
  const n = input.length;
  const kind: ByteMutation = n === 0 ? 'insert' : rand.pick(['flip', 'flip', 'set', 'insert', 'delete', 'truncate', 'duplicate']);
  const at = rand.int(n + 1);
  switch (kind) {
    case 'flip': {
      const out = Uint8Array.from(input);
      for (let k = rand.range(1, 4); k > 0; k--) out[rand.int(n)] ^= 1 << rand.int(8);
      return [out, kind];
    }
    case 'set': {
      const out = Uint8Array.from(input);
      out[rand.int(n)] = rand.chance(0.5) ? rand.pick([0x00, 0x01, 0x7f, 0x80, 0xff]) : rand.int(256);
      return [out, kind];
    }
    case 'insert':
      return [concat(input.subarray(0, at), rand.bytes(rand.range(1, 8)), input.subarray(at)), kind];
    case 'delete':
      return [concat(input.subarray(0, at), input.subarray(Math.min(n, at + rand.range(1, 8)))), kind];
    case 'truncate':
      return [input.slice(0, rand.int(n)), kind];
    case 'duplicate': {
      const from = rand.int(n);
      const chunk = input.subarray(from, Math.min(n, from + rand.range(1, 64)));
      return [concat(input.subarray(0, at), chunk, input.subarray(at)), kind];
    }
  }
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** A mutated copy of `seed`: 1-3 tree mutations and/or 1-2 byte mutations; `what` lists them. */
export function mutateProto(seed: Uint8Array, rand: Random): { bytes: Uint8Array; what: string[] } {
  const what: string[] = [];
  let bytes = seed;
  const tree = rand.chance(0.75) ? parseMessage(seed) : undefined;
  if (tree) {
    for (let k = rand.range(1, 3); k > 0; k--) {
      const m = mutateTree(tree, rand);
      if (m) what.push(m);
    }
    bytes = writeMessage(tree);
  }
  if (!tree || rand.chance(0.35)) {
    for (let k = rand.range(1, 2); k > 0; k--) {
      const [out, m] = mutateBytes(bytes, rand);
      bytes = out;
      what.push(`bytes:${m}`);
    }
  }
  return { bytes, what };
}

const VARINT_VALUES = [0, 1, 2, 127, 128, 300, 2 ** 31, 2 ** 32 - 1, 2 ** 53];

/** A random message `depth` levels deep: small field numbers (the real OTLP ones) of random wire types. */
export function randomMessage(rand: Random, depth: number): WireField[] {
  const fields: WireField[] = [];
  for (let n = rand.int(5); n > 0; n--) {
    const no = rand.range(1, 16);
    const wt = rand.pick([0, 1, 2, 2, 2, 5]);
    if (wt === 2) {
      if (depth > 0 && rand.chance(0.6)) fields.push({ no, wt, value: new Uint8Array(0), children: randomMessage(rand, depth - 1) });
      else fields.push({ no, wt, value: rand.chance(0.5) ? rand.bytes(rand.int(20)) : new TextEncoder().encode(rand.pick(['', 'service.name', 'checkout', 'é'])) });
    } else if (wt === 0) {
      fields.push({ no, wt, value: Uint8Array.from(varint(rand.pick(VARINT_VALUES))) });
    } else {
      fields.push({ no, wt, value: rand.bytes(wt === 1 ? 8 : 4) });
    }
  }
  return fields;
}

/** A random request: resource entries (field 1) holding random messages. */
export function randomRequest(rand: Random): Uint8Array {
  const entries: WireField[] = Array.from({ length: rand.range(1, 3) }, () => ({ no: 1, wt: 2, value: new Uint8Array(0), children: randomMessage(rand, rand.range(1, 7)) }));
  return writeMessage(entries);
}
