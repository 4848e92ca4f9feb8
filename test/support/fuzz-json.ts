/**
 * OTLP/JSON mutation for the fuzz tests: value-level edits of a parsed request (wrong types,
 * edge numbers, broken ids and base64, snake_case and unknown keys, lone surrogates, deep
 * AnyValue nesting), text-level edits of its JSON text, and random JSON values built from the
 * request's own vocabulary of keys so they reach past the first level.
 */
import type { Random } from './fuzz-random.ts';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Replacement values: every JSON type, edge numbers, numbers as strings, ids and base64 gone wrong. */
const JUNK: readonly Json[] = [
  null,
  true,
  false,
  0,
  -0,
  -1,
  1.5,
  1e300,
  2 ** 53 + 2,
  -(2 ** 63),
  2 ** 64,
  '',
  'x',
  'NaN',
  'Infinity',
  '-Infinity',
  '1e3',
  '0x10',
  ' 1',
  '+1',
  '-0',
  '01',
  '9223372036854775807',
  '9223372036854775808',
  '18446744073709551615',
  '18446744073709551616',
  '-9223372036854775809',
  '99999999999999999999999',
  '4294967296',
  '00'.repeat(16),
  '0g'.repeat(16),
  'AB'.repeat(8),
  'abc',
  'AQID',
  'AQID=',
  'AQ==',
  'A',
  '_-_-',
  '+/+/',
  'SEVERITY_NUMBER_ERROR',
  'SPAN_KIND_SERVER',
  'STATUS_CODE_ERROR',
  'AGGREGATION_TEMPORALITY_DELTA',
  'not-an-enum',
  'a\ud800b',
  '\udc00',
  '😀',
  '\u0000',
  [],
  [null],
  [1, 'a', {}],
  {},
  { stringValue: 'v' },
  { intValue: '1', stringValue: 'both' },
  { arrayValue: {} },
  { kvlistValue: { values: [{ key: 'k' }] } },
  JSON.parse('{"__proto__": {"stringValue": "p"}, "constructor": 1}') as Json,
];

function camelToSnake(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** Every key used anywhere in `root`, and its snake_case form (which OTLP/JSON readers must also accept). */
export function vocabulary(roots: readonly Json[]): string[] {
  const keys = new Set<string>();
  const stack: Json[] = [...roots];
  while (stack.length > 0) {
    const v = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (Array.isArray(v)) stack.push(...v);
    else
      for (const [k, child] of Object.entries(v)) {
        keys.add(k);
        keys.add(camelToSnake(k));
        stack.push(child);
      }
  }
  return [...keys].sort();
}

/** The OTLP/JSON text of an AnyValue nested `depth` levels (arrays in arrays or kvlists in kvlists), built as text. */
export function nestedAnyValueText(depth: number, via: 'array' | 'kvlist'): string {
  const n = depth - 1;
  const leaf = '{"stringValue":"leaf"}';
  return via === 'array' ? '{"arrayValue":{"values":['.repeat(n) + leaf + ']}}'.repeat(n) : '{"kvlistValue":{"values":[{"key":"k","value":'.repeat(n) + leaf + '}]}}'.repeat(n);
}

/**
 * Deep values stand in the tree as marker strings until the text is written: JSON.stringify and
 * structuredClone recurse and overflow the stack thousands of levels down, JSON.parse does not.
 */
const NEST_MARKER = /"\\u0000nest:(\d+):(array|kvlist)"/g;

/** The JSON text of a (mutated) value, deep nesting markers expanded. */
export function jsonText(value: Json): string {
  return JSON.stringify(value).replace(NEST_MARKER, (_, depth: string, via: 'array' | 'kvlist') => nestedAnyValueText(Number(depth), via));
}

type Slot = [parent: Json[] | { [key: string]: Json }, key: string | number];

function slotsOf(root: Json): Slot[] {
  const out: Slot[] = [];
  const stack: Json[] = [root];
  while (stack.length > 0) {
    const v = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        out.push([v, i]);
        stack.push(v[i]);
      }
    } else {
      for (const k of Object.keys(v)) {
        out.push([v, k]);
        stack.push(v[k]);
      }
    }
  }
  return out;
}

function get(parent: Slot[0], key: Slot[1]): Json {
  return (parent as Record<string | number, Json>)[key];
}
function set(parent: Slot[0], key: Slot[1], value: Json): void {
  (parent as Record<string | number, Json>)[key] = value;
}

/** Edits `root` in place (or returns a replacement root); 1-3 edits. Write the result with jsonText(). */
export function mutateJsonValue(root: Json, rand: Random, keys: readonly string[]): { value: Json; what: string[] } {
  const what: string[] = [];
  for (let k = rand.range(1, 3); k > 0; k--) {
    const all = slotsOf(root);
    if (all.length === 0 || rand.chance(0.01)) {
      root = structuredClone(rand.pick(JUNK));
      what.push('root');
      continue;
    }
    const [parent, key] = rand.pick(all);
    const kind = rand.int(7);
    if (kind <= 1) {
      set(parent, key, structuredClone(rand.pick(JUNK)));
      what.push('junk');
    } else if (kind === 2 && !Array.isArray(parent)) {
      // Rename: to its snake_case form, another schema key (type confusion), or an unknown key.
      const value = get(parent, key);
      delete (parent as Record<string, Json>)[key as string];
      const renamed = rand.pick([camelToSnake(String(key)), rand.pick(keys), `${String(key)}X`]);
      (parent as Record<string, Json>)[renamed] = value;
      what.push('rename');
    } else if (kind === 3) {
      // Wrap in an array, or unwrap an array to its first element.
      const value = get(parent, key);
      set(parent, key, Array.isArray(value) ? (value[0] ?? null) : [value]);
      what.push('wrap');
    } else if (kind === 4 && Array.isArray(parent)) {
      // Duplicate an element many times (bounded, so the test stays fast).
      const copies = Array.from({ length: rand.pick([1, 10, 500]) }, () => structuredClone(parent[key as number]));
      parent.splice(key as number, 0, ...copies);
      what.push('repeat');
    } else if (kind === 5) {
      set(parent, key, `\u0000nest:${rand.pick([31, 32, 33, 10_000])}:${rand.chance(0.5) ? 'array' : 'kvlist'}`);
      what.push('nest');
    } else {
      // Add a schema key with a junk value next to the existing ones (a second oneof member, say).
      const target = get(parent, key);
      if (target !== null && typeof target === 'object' && !Array.isArray(target)) target[rand.pick(keys)] = structuredClone(rand.pick(JUNK));
      else set(parent, key, { [rand.pick(keys)]: structuredClone(rand.pick(JUNK)) });
      what.push('add-key');
    }
  }
  return { value: root, what };
}

const TEXT_INSERTS = ['{', '}', '[', ']', '"', ',', ':', '\\', '\\u0000', '\\ud800', '\\udfff', 'e', '-', '0', '1e999', 'null', ' ', '\u2028', '\ufeff'];

/** Byte-ish edits of JSON text; most no longer parse, the rest parse to something odd. */
export function mutateJsonText(text: string, rand: Random): { text: string; what: string } {
  const at = rand.int(text.length + 1);
  switch (rand.int(5)) {
    case 0:
      return { text: text.slice(0, at), what: 'truncate' };
    case 1:
      return { text: text.slice(0, at) + rand.pick(TEXT_INSERTS) + text.slice(at), what: 'insert' };
    case 2:
      return { text: text.slice(0, at) + text.slice(at + rand.range(1, 8)), what: 'delete' };
    case 3: {
      // Swap one digit for another, keeping the text valid JSON more often than not.
      const digits = [...text.matchAll(/\d/g)];
      if (digits.length === 0) return { text, what: 'none' };
      const i = rand.pick(digits).index;
      return { text: text.slice(0, i) + String(rand.int(10)) + text.slice(i + 1), what: 'digit' };
    }
    default: {
      const chars = [...text];
      const i = rand.int(chars.length);
      chars[i] = String.fromCharCode(chars[i].charCodeAt(0) ^ (1 << rand.int(7)));
      return { text: chars.join(''), what: 'flip' };
    }
  }
}

/** A random JSON value over the given key vocabulary, at most `depth` levels deep. */
export function randomJson(rand: Random, keys: readonly string[], depth: number): Json {
  const kind = depth <= 0 ? rand.int(3) : rand.int(6);
  if (kind === 0) return structuredClone(rand.pick(JUNK));
  if (kind === 1) return rand.chance(0.5) ? rand.range(-5, 5) : rand.pick(['checkout', 'service.name', '0102030405060708', '1750000000000000000']);
  if (kind === 2) return rand.chance(0.5);
  if (kind === 3) return Array.from({ length: rand.int(4) }, () => randomJson(rand, keys, depth - 1));
  const obj: { [key: string]: Json } = {};
  for (let n = rand.int(5); n > 0; n--) obj[rand.pick(keys)] = randomJson(rand, keys, depth - 1);
  return obj;
}

export type { Json };
