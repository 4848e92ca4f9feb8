/**
 * Applies the validator's edits (drop a field, replace a string's bytes) to the request bytes,
 * re-framing every enclosing message whose length changed and copying everything else as is.
 *
 * It works on the wire, not through protobufjs: the bytes of the items that are kept (and their
 * unknown fields) come out untouched, and an item rejected for nesting 10,000 levels deep is
 * dropped without being decoded. It descends only into the messages that contain an edit, which
 * lie at most a few levels below an item (truncations inside AnyValues the depth limit allowed).
 */
import { WT_LEN, WireReader, type MessageSpec } from '../../otlp/index.ts';

export interface Edits {
  /** Sorted, non-overlapping byte ranges of the input: a whole field to drop, or a string's bytes to replace. */
  start: readonly number[];
  end: readonly number[];
  /** The replacement bytes, or null to drop the field. */
  repl: readonly (Uint8Array | null)[];
}

export function applyEdits(spec: MessageSpec, buf: Uint8Array, edits: Edits): Uint8Array {
  const out: Uint8Array[] = [];
  const cursor = { next: 0 };
  const size = rewrite(spec, buf, 0, buf.length, edits, cursor, out);
  if (cursor.next !== edits.start.length) throw new Error(`internal: ${edits.start.length - cursor.next} validation edits did not match a field`);
  return Buffer.concat(out, size);
}

/** Writes the message [start, end) with the edits inside it applied; returns the bytes written. */
function rewrite(spec: MessageSpec, buf: Uint8Array, start: number, end: number, edits: Edits, cursor: { next: number }, out: Uint8Array[]): number {
  const r = new WireReader(buf, start);
  let copyFrom = start;
  let size = 0;
  const emit = (bytes: Uint8Array) => {
    out.push(bytes);
    size += bytes.length;
  };
  const flush = (upTo: number) => {
    if (upTo > copyFrom) emit(buf.subarray(copyFrom, upTo));
  };
  while (r.pos < end && cursor.next < edits.start.length && edits.start[cursor.next] < end) {
    const at = r.pos;
    const tag = r.tag(end);
    if ((tag & 7) !== WT_LEN) {
      r.skip(tag & 7, tag >>> 3, end);
      continue;
    }
    const lengthAt = r.pos;
    const len = r.length(end);
    const contentAt = r.pos;
    const fieldEnd = contentAt + len;
    r.pos = fieldEnd;
    const i = cursor.next;
    const editStart = edits.start[i];
    if (editStart >= fieldEnd) continue;
    if (editStart < at) throw new Error(`internal: validation edit at byte ${editStart} does not start a field`);
    const repl = edits.repl[i];
    flush(at);
    copyFrom = fieldEnd;
    if (repl === null && editStart === at && edits.end[i] === fieldEnd) {
      cursor.next++; // dropped: nothing written
    } else if (repl !== null && editStart === contentAt && edits.end[i] === fieldEnd) {
      cursor.next++;
      emit(buf.subarray(at, lengthAt));
      emit(varint(repl.length));
      emit(repl);
    } else {
      const child = spec.byNumber[tag >>> 3]?.message;
      if (child === undefined) throw new Error(`internal: validation edit at byte ${editStart} inside ${spec.name} field ${tag >>> 3}, which is not a message`);
      const parts: Uint8Array[] = [];
      const childSize = rewrite(child, buf, contentAt, fieldEnd, edits, cursor, parts);
      emit(buf.subarray(at, lengthAt));
      emit(varint(childSize));
      for (const p of parts) emit(p);
    }
  }
  flush(end);
  return size;
}

function varint(n: number): Uint8Array {
  const bytes: number[] = [];
  while (n >= 0x80) {
    bytes.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  bytes.push(n);
  return Uint8Array.from(bytes);
}
