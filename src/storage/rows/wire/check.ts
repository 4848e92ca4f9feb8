/**
 * Fields the row decoders do not turn into columns still have to be as valid as the codec
 * requires (src/otlp/validate.ts walk + protobufjs's strict UTF-8 on every string), so that the
 * wire mappers accept and reject exactly the requests decodeRequest does.
 */
import { DEFAULT_MAX_ANY_VALUE_DEPTH, WT_I32, WT_I64, WT_LEN, wireError, type FieldSpec, type MessageSpec } from '../../../otlp/index.ts';
import type { WireCursor } from './cursor.ts';
import { checkUtf8 } from './text.ts';

export const MAX_ANY_VALUE_DEPTH = DEFAULT_MAX_ANY_VALUE_DEPTH;

/**
 * Handles a field the caller does not use, after its tag was read: unknown fields are skipped
 * (groups included), known ones must have their wire type (or be a packed run) and are checked
 * down to their strings. `anyDepth` is the AnyValue nesting around the field.
 */
export function skipField(c: WireCursor, tag: number, end: number, spec: MessageSpec, anyDepth: number): void {
  const wt = tag & 7;
  const no = tag >>> 3;
  const f = no < spec.byNumber.length ? spec.byNumber[no] : undefined;
  if (f === undefined) {
    c.skip(wt, no, end);
  } else if (wt === f.wireType) {
    if (wt === WT_LEN) {
      const len = c.length(end);
      const start = c.pos;
      if (f.message !== undefined) {
        checkMessage(c, f.message, start, start + len, anyDepth);
      } else {
        if (f.kind === 'string') checkUtf8(c.b, start, start + len);
        c.pos = start + len;
      }
    } else {
      c.skip(wt, no, end);
    }
  } else if (wt === WT_LEN && f.packable) {
    const len = c.length(end);
    checkPacked(c, spec, f, c.pos + len);
  } else {
    throw wrongWireType(spec, f, wt, c.pos);
  }
}

export function wrongWireType(spec: MessageSpec, f: FieldSpec, wt: number, pos: number): Error {
  return wireError(`${spec.name}.${f.name} (field ${f.no}) has wire type ${wt}, expected ${f.wireType}`, pos);
}

/** Validates a whole message in [start, end) (wire structure, AnyValue depth, UTF-8); leaves the cursor at end. */
export function checkMessage(c: WireCursor, spec: MessageSpec, start: number, end: number, anyDepth: number): void {
  if (spec.isAnyValue && ++anyDepth > MAX_ANY_VALUE_DEPTH) {
    throw wireError(`AnyValue nested deeper than ${MAX_ANY_VALUE_DEPTH} levels`, start);
  }
  c.pos = start;
  while (c.pos < end) skipField(c, c.tag(end), end, spec, anyDepth);
}

export function checkPacked(c: WireCursor, spec: MessageSpec, f: FieldSpec, end: number): void {
  const width = f.wireType === WT_I64 ? 8 : f.wireType === WT_I32 ? 4 : 0;
  if (width !== 0) {
    if ((end - c.pos) % width !== 0) {
      throw wireError(`${spec.name}.${f.name}: packed run of ${end - c.pos} bytes is not a multiple of ${width}`, c.pos);
    }
    c.pos = end;
    return;
  }
  while (c.pos < end) c.skipVarint(end);
}
