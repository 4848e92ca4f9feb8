/**
 * OTLP/JSON (https://opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding) to and from the
 * generated message classes, driven by the schema in schema.ts.
 *
 * The OTLP deviations from plain proto3 JSON: trace and span ids are hex, not base64; keys are
 * lowerCamelCase; enums are integers. When reading we are lenient where the spec asks for it
 * (snake_case keys, enum names, int64 as number or string, unknown keys ignored) and strict
 * everywhere else: a value of the wrong type throws OtlpDecodeError naming its path.
 */
import $protobuf from 'protobufjs/minimal.js';
import { DEFAULT_MAX_ANY_VALUE_DEPTH, type DecodeOptions, type ExportRequestBySignal, type ExportRequestPropertiesBySignal } from './codec.ts';
import { OtlpDecodeError } from './errors.ts';
import { bytesToHex, idFromHex } from './ids.ts';
import { REQUEST_SPECS, type FieldSpec, type MessageSpec } from './schema.ts';
import type { Signal } from '../telemetry/signals.ts';

/** The parts of long.js we use (protobufjs represents 64-bit fields with it). */
interface LongValue {
  low: number;
  high: number;
  unsigned: boolean;
  toString(): string;
  toSigned(): LongValue;
  toUnsigned(): LongValue;
}
interface LongClass {
  fromBits(low: number, high: number, unsigned: boolean): LongValue;
}
const Long = $protobuf.util.Long as unknown as LongClass;

type Obj = Record<string, unknown>;

/** Parses an OTLP/JSON Export request (already JSON.parse'd) into the generated message. */
export function requestFromJson<S extends Signal>(signal: S, value: unknown, options?: DecodeOptions): ExportRequestBySignal[S] {
  const spec = Object.hasOwn(REQUEST_SPECS, signal) ? REQUEST_SPECS[signal] : undefined;
  if (spec === undefined) throw new TypeError(`unknown signal ${JSON.stringify(signal)}`);
  const maxDepth = options?.maxAnyValueDepth ?? DEFAULT_MAX_ANY_VALUE_DEPTH;
  return readMessage(spec, value, 'request', 0, maxDepth) as ExportRequestBySignal[S];
}

/** Writes an Export request (generated message or same-shaped plain object) as an OTLP/JSON plain object. */
export function requestToJson<S extends Signal>(signal: S, message: ExportRequestBySignal[S] | ExportRequestPropertiesBySignal[S]): Obj {
  const spec = Object.hasOwn(REQUEST_SPECS, signal) ? REQUEST_SPECS[signal] : undefined;
  if (spec === undefined) throw new TypeError(`unknown signal ${JSON.stringify(signal)}`);
  return writeMessage(spec, message as unknown as Obj);
}

// ---- reading -------------------------------------------------------------------------------

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v)}`;
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}

function fail(path: string, expected: string, got: unknown): never {
  throw new OtlpDecodeError(`expected ${expected}, got ${describe(got)}`, path);
}

function readMessage(spec: MessageSpec, value: unknown, path: string, anyDepth: number, maxDepth: number): object {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(path, `a ${spec.name} object`, value);
  if (spec.isAnyValue && ++anyDepth > maxDepth) {
    throw new OtlpDecodeError(`AnyValue nested deeper than ${maxDepth} levels`, path);
  }
  const src = value as Obj;
  const msg = new spec.ctor() as Obj;
  for (const key of Object.keys(src)) {
    const f = spec.byJsonKey.get(key);
    const v = src[key];
    if (f === undefined || v === null || v === undefined) continue; // unknown keys are ignored; null means "not set"
    const p = `${path}.${key}`;
    if (f.repeated) {
      if (!Array.isArray(v)) fail(p, 'an array', v);
      if (v.length === 0) continue;
      const out: unknown[] = [];
      for (let i = 0; i < v.length; i++) out.push(readValue(f, v[i], `${p}[${i}]`, anyDepth, maxDepth));
      msg[f.name] = out;
      continue;
    }
    const x = readValue(f, v, p, anyDepth, maxDepth);
    if (f.presence || f.kind === 'message') {
      if (f.oneof !== undefined) checkOneofFree(spec, msg, f, p);
      msg[f.name] = x;
    } else if (!isDefault(f, x)) {
      msg[f.name] = x;
    }
  }
  return msg;
}

function checkOneofFree(spec: MessageSpec, msg: Obj, f: FieldSpec, path: string): void {
  for (const other of spec.fields) {
    if (other.oneof === f.oneof && msg[other.name] != null) {
      throw new OtlpDecodeError(
        other === f ? 'field given twice' : `only one of the "${f.oneof}" fields may be set, but ${other.name} is set too`,
        path,
      );
    }
  }
}

function readValue(f: FieldSpec, v: unknown, path: string, anyDepth: number, maxDepth: number): unknown {
  switch (f.kind) {
    case 'message':
      return readMessage(f.message!, v, path, anyDepth, maxDepth);
    case 'string':
      if (typeof v !== 'string') fail(path, 'a string', v);
      // JSON text may hold a lone surrogate ("\ud800"); it has no UTF-8 form, so protobuf would carry
      // bytes that no decoder accepts: refuse it here, naming the field.
      if (!v.isWellFormed()) throw new OtlpDecodeError('string holds a lone UTF-16 surrogate (not valid Unicode)', path);
      return v;
    case 'bool':
      if (typeof v !== 'boolean') fail(path, 'true or false', v);
      return v;
    case 'bytes':
      if (typeof v !== 'string') fail(path, f.hexIdBytes > 0 ? 'a hex string' : 'a base64 string', v);
      return f.hexIdBytes > 0 ? idFromHex(v, f.hexIdBytes, path) : base64ToBytes(v, path);
    case 'int64':
    case 'sfixed64':
      return readLong(v, false, path);
    case 'uint64':
    case 'fixed64':
      return readLong(v, true, path);
    case 'uint32':
    case 'fixed32':
      return readInt(v, 0, 0xffffffff, path);
    case 'sint32':
      return readInt(v, -0x80000000, 0x7fffffff, path);
    case 'enum':
      if (typeof v === 'string') {
        const n = f.enumValues!.get(v);
        if (n === undefined) fail(path, `an enum number or one of ${[...f.enumValues!.keys()].join(', ')}`, v);
        return n;
      }
      // Enums are open in proto3: unknown numbers are kept.
      return readInt(v, -0x80000000, 0x7fffffff, path);
    case 'double':
      return readDouble(v, path);
  }
}

const INTEGER_STRING = /^-?\d{1,20}$/;
const MIN_INT64 = -(2n ** 63n);
const MAX_INT64 = 2n ** 63n - 1n;
const MAX_UINT64 = 2n ** 64n - 1n;

function readLong(v: unknown, unsigned: boolean, path: string): LongValue {
  let big: bigint;
  if (typeof v === 'string' && INTEGER_STRING.test(v)) big = BigInt(v);
  else if (typeof v === 'number' && Number.isInteger(v)) big = BigInt(v);
  else fail(path, 'an integer (as a decimal string or a number)', v);
  if (unsigned ? big < 0n || big > MAX_UINT64 : big < MIN_INT64 || big > MAX_INT64) {
    throw new OtlpDecodeError(`${big} is out of range for a ${unsigned ? 'uint64' : 'int64'}`, path);
  }
  return Long.fromBits(Number(BigInt.asIntN(32, big)), Number(BigInt.asIntN(32, big >> 32n)), unsigned);
}

function readInt(v: unknown, min: number, max: number, path: string): number {
  const n = typeof v === 'string' && INTEGER_STRING.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n)) fail(path, 'an integer', v);
  if (n < min || n > max) throw new OtlpDecodeError(`${n} is out of range ${min}..${max}`, path);
  return n;
}

const DECIMAL_STRING = /^-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

function readDouble(v: unknown, path: string): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    if (v === 'NaN') return NaN;
    if (v === 'Infinity') return Infinity;
    if (v === '-Infinity') return -Infinity;
    if (DECIMAL_STRING.test(v)) return Number(v);
  }
  fail(path, 'a number (or "NaN", "Infinity", "-Infinity")', v);
}

const BASE64 = /^(?:[A-Za-z0-9+/]*|[A-Za-z0-9_-]*)={0,2}$/;

function base64ToBytes(s: string, path: string): Uint8Array {
  const unpadded = s.endsWith('==') ? s.length - 2 : s.endsWith('=') ? s.length - 1 : s.length;
  if (!BASE64.test(s) || unpadded % 4 === 1 || (unpadded !== s.length && s.length % 4 !== 0)) {
    throw new OtlpDecodeError('invalid base64', path);
  }
  return Buffer.from(s, 'base64');
}

function isDefault(f: FieldSpec, v: unknown): boolean {
  switch (typeof v) {
    case 'string':
      return v === '';
    case 'number':
      return v === 0;
    case 'boolean':
      return !v;
    case 'object':
      if (v instanceof Uint8Array) return v.length === 0;
      if (f.kind === 'message') return false;
      return (v as LongValue).low === 0 && (v as LongValue).high === 0;
    default:
      return v == null;
  }
}

// ---- writing -------------------------------------------------------------------------------

function writeMessage(spec: MessageSpec, msg: Obj): Obj {
  const out: Obj = {};
  for (const f of spec.fields) {
    const v = msg[f.name];
    if (v === undefined || v === null) continue;
    if (f.repeated) {
      if (!Array.isArray(v) || v.length === 0) continue;
      const arr: unknown[] = [];
      for (let i = 0; i < v.length; i++) arr.push(writeValue(f, v[i]));
      out[f.name] = arr;
    } else if (f.presence || f.kind === 'message' || !isDefault(f, v)) {
      out[f.name] = writeValue(f, v);
    }
  }
  return out;
}

function writeValue(f: FieldSpec, v: unknown): unknown {
  switch (f.kind) {
    case 'message':
      return writeMessage(f.message!, v as Obj);
    case 'bytes': {
      const b = v as Uint8Array;
      return f.hexIdBytes > 0 ? bytesToHex(b) : Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
    }
    case 'int64':
    case 'sfixed64':
      return longToString(v, false);
    case 'uint64':
    case 'fixed64':
      return longToString(v, true);
    case 'double': {
      const n = v as number;
      return Number.isFinite(n) ? n : Number.isNaN(n) ? 'NaN' : n > 0 ? 'Infinity' : '-Infinity';
    }
    default:
      return v;
  }
}

function longToString(v: unknown, unsigned: boolean): string {
  if (typeof v === 'object' && v !== null) {
    const l = v as LongValue;
    return (l.unsigned === unsigned ? l : unsigned ? l.toUnsigned() : l.toSigned()).toString();
  }
  if (typeof v === 'number') {
    const big = BigInt(Math.trunc(v));
    return String(unsigned ? BigInt.asUintN(64, big) : BigInt.asIntN(64, big));
  }
  return String(v);
}
