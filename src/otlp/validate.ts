/**
 * A schema-driven walk over protobuf bytes that allocates nothing and checks what protobufjs's
 * generated decoders let through: a known field arriving with the wrong wire type (they would
 * silently drop it as "unknown"), packed runs that do not divide into whole elements, and AnyValue
 * nesting beyond a limit. Lengths, truncation and varint sizes are checked on the way.
 *
 * Recursion is bounded: the OTLP schema only recurses through AnyValue, whose depth is capped.
 */
import type { FieldSpec, MessageSpec } from './schema.ts';
import { WT_I32, WT_I64, WT_LEN, WireReader, wireError } from './wire.ts';

export function validateWire(spec: MessageSpec, buf: Uint8Array, maxAnyValueDepth: number): void {
  const r = new WireReader(buf);
  walk(r, spec, buf.length, 0, maxAnyValueDepth);
}

function walk(r: WireReader, spec: MessageSpec, end: number, anyDepth: number, maxAnyDepth: number): void {
  if (spec.isAnyValue && ++anyDepth > maxAnyDepth) {
    throw wireError(`AnyValue nested deeper than ${maxAnyDepth} levels`, r.pos);
  }
  const byNumber = spec.byNumber;
  while (r.pos < end) {
    const at = r.pos;
    const tag = r.tag(end);
    const wt = tag & 7;
    const no = tag >>> 3;
    const f = no < byNumber.length ? byNumber[no] : undefined;
    if (f === undefined) {
      r.skip(wt, no, end);
    } else if (wt === f.wireType) {
      if (wt === WT_LEN) {
        const len = r.length(end);
        if (f.message !== undefined) walk(r, f.message, r.pos + len, anyDepth, maxAnyDepth);
        else r.pos += len;
      } else {
        r.skip(wt, no, end);
      }
    } else if (wt === WT_LEN && f.packable) {
      const len = r.length(end);
      checkPacked(r, spec, f, r.pos + len);
    } else {
      throw wireError(`${spec.name}.${f.name} (field ${no}) has wire type ${wt}, expected ${f.wireType}`, at);
    }
  }
}

function checkPacked(r: WireReader, spec: MessageSpec, f: FieldSpec, end: number): void {
  const width = f.wireType === WT_I64 ? 8 : f.wireType === WT_I32 ? 4 : 0;
  if (width !== 0) {
    if ((end - r.pos) % width !== 0) {
      throw wireError(`${spec.name}.${f.name}: packed run of ${end - r.pos} bytes is not a multiple of ${width}`, r.pos);
    }
    r.pos = end;
    return;
  }
  while (r.pos < end) r.skipVarint(end);
}
