/**
 * The state and primitives of the validating wire pass: one reader over the request bytes, the
 * verdict of the item being walked, and the edits (drops and truncations) the request needs.
 * It builds no message objects; the signal-specific walks (spans.ts, logs.ts, points.ts,
 * request.ts) call these per field.
 *
 * Everything it lets through must decode in storage exactly as the codec would (src/otlp/codec.ts:
 * wire types per src/otlp/schema.ts, strict UTF-8 of every string field, AnyValue depth, lengths),
 * so every field of every item is read: a structural error inside an item rejects the item, one
 * in a resource, scope or metric rejects what it holds (see request.ts).
 *
 * Recursion happens only through AnyValue and stops at maxAttributeDepth (at most the codec's 32):
 * deeper bytes are skipped by length, never descended into, so no input can exhaust the stack.
 */
import { DEFAULT_MAX_ANY_VALUE_DEPTH, OtlpDecodeError, WireReader, wireError } from '../../otlp/index.ts';
import { timeWindow, type ValidationLimits } from './limits.ts';
import { R_DEPTH, R_FUTURE, R_MALFORMED, R_PAST, Tally } from './reasons.ts';
import { TextCheck } from './text.ts';
import { truncateUtf8 } from './truncate.ts';

// Tags (field number << 3 | wire type) of the messages every signal shares.
const KV_KEY = 0x0a; // KeyValue.key, LEN
const KV_VALUE = 0x12; // KeyValue.value, LEN
const AV_STRING = 0x0a; // AnyValue.string_value
const AV_BOOL = 0x10;
const AV_INT = 0x18;
const AV_DOUBLE = 0x21;
const AV_ARRAY = 0x2a;
const AV_KVLIST = 0x32;
const AV_BYTES = 0x3a;
const LIST_VALUES = 0x0a; // ArrayValue.values / KeyValueList.values

/** No pending text run: far enough below 0 that no range starts 4 bytes after it. */
const NO_TEXT = -16;

/** Bit masks of the field numbers a message defines: a known field with another wire type is malformed. */
export function fields(...numbers: number[]): number {
  let mask = 0;
  for (const n of numbers) mask |= 1 << n;
  return mask;
}
const KEY_VALUE_FIELDS = fields(1, 2);
const ANY_VALUE_FIELDS = fields(1, 2, 3, 4, 5, 6, 7);
const LIST_FIELDS = fields(1);

export class Scanner {
  readonly r: WireReader;
  readonly buf: Uint8Array;
  private readonly view: DataView;
  readonly text: TextCheck;
  readonly maxAttributes: number;
  readonly maxValueBytes: number;
  readonly maxDepth: number;
  readonly maxEvents: number;
  readonly maxLinks: number;
  readonly nowNs: number;
  readonly minNs: number;
  readonly maxNs: number;
  readonly tally = new Tally();

  /** Edits of the input, sorted and non-overlapping: [start, end) replaced by repl, or dropped when repl is null. */
  readonly editStart: number[] = [];
  readonly editEnd: number[] = [];
  readonly editRepl: (Uint8Array | null)[] = [];

  /** Items (spans, log records, data points) walked so far. */
  items = 0;
  /** The first check the item (or container) being walked failed; 0 while it passes. */
  reason = 0;
  /** For the timestamp reasons: how far the offending timestamp is from now. */
  reasonNs = 0;
  /** The reason an over-deep AnyValue gets, which depends on whose attributes are walked. */
  depthReason = R_DEPTH;
  /** Attribute values are truncated; a log body is not (it is the record, not metadata). */
  truncating = true;
  /** The pending text run of plain attributes (see textRun); empty (start = end) when there is none. */
  private textStart = NO_TEXT;
  private textEnd = NO_TEXT;
  /** Containers dropped so far (see settleContainer). */
  drops = 0;
  /** The codes of the data points rejected in the metric being walked (taken back if a later data field replaces them). */
  readonly pointCodes: number[] = [];

  constructor(buf: Uint8Array, limits: ValidationLimits, nowMs: number) {
    // The walk recurses once per AnyValue level up to this limit; deeper than the codec's would
    // pass what storage refuses (config allows 1..32).
    const maxDepth = limits.maxAttributeDepth;
    if (!Number.isInteger(maxDepth) || maxDepth < 1 || maxDepth > DEFAULT_MAX_ANY_VALUE_DEPTH) {
      throw new RangeError(`maxAttributeDepth must be an integer in 1..${DEFAULT_MAX_ANY_VALUE_DEPTH}, got ${maxDepth}`);
    }
    this.buf = buf;
    this.r = new WireReader(buf);
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.text = new TextCheck(buf);
    this.maxAttributes = limits.maxAttributesPerItem;
    this.maxValueBytes = limits.maxAttributeValueBytes;
    this.maxDepth = limits.maxAttributeDepth;
    this.maxEvents = limits.maxEventsPerSpan;
    this.maxLinks = limits.maxLinksPerSpan;
    const w = timeWindow(limits, nowMs);
    this.nowNs = w.nowNs;
    this.minNs = w.minNs;
    this.maxNs = w.maxNs;
  }

  /** Records a failed check, unless the item already failed one (an item counts once, under its first reason). */
  reject(code: number): void {
    if (this.reason === 0) this.reason = code;
  }

  /** A field this walk does not handle: malformed if the message defines it (wrong wire type), else skipped. */
  other(tag: number, at: number, end: number, known: number, message: string): void {
    const no = tag >>> 3;
    if (no < 31 && (known & (1 << no)) !== 0) throw wireError(`${message} field ${no} has the wrong wire type ${tag & 7}`, at);
    this.r.skip(tag & 7, no, end);
  }

  /**
   * A message whose fields are all scalars or strings: wire types are checked, and the UTF-8 of
   * the `strings` fields. `packable` fields may also come as a packed varint run.
   */
  flat(end: number, known: number, wireTypes: readonly number[], packable: number, strings: number, message: string): void {
    const r = this.r;
    while (r.pos < end) {
      const at = r.pos;
      const tag = this.tag(end);
      const no = tag >>> 3;
      const wt = tag & 7;
      const isKnown = no < 31 && (known & (1 << no)) !== 0;
      if (isKnown && wt !== wireTypes[no]) {
        if (wt !== 2 || (packable & (1 << no)) === 0) throw wireError(`${message} field ${no} has the wrong wire type ${wt}`, at);
        const runLen = this.len(end);
        const runEnd = r.pos + runLen;
        while (r.pos < runEnd) r.skipVarint(runEnd);
      } else if (isKnown && (strings & (1 << no)) !== 0) {
        this.string(end);
      } else {
        r.skip(wt, no, end);
      }
    }
  }

  /** A string field (r.pos at its length): skipped after checking it is UTF-8, as the codec requires. */
  string(end: number): void {
    const len = this.len(end);
    const start = this.r.pos;
    this.text.utf8(start, start + len);
    this.r.pos = start + len;
  }

  /** WireReader.tag with the one-byte case inline (nearly every OTLP tag). */
  tag(end: number): number {
    const r = this.r;
    const p = r.pos;
    if (p < end) {
      const t = this.buf[p];
      if (t >= 8 && t < 0x80 && (t & 7) < 6) {
        r.pos = p + 1;
        return t;
      }
    }
    return r.tag(end);
  }

  /** WireReader.length with the one- and two-byte cases (up to 16 KiB: attributes, items) inline. */
  len(end: number): number {
    const r = this.r;
    const p = r.pos;
    if (p + 1 < end) {
      const b = this.buf;
      const n = b[p];
      if (n < 0x80) {
        if (n < end - p) {
          r.pos = p + 1;
          return n;
        }
      } else if (b[p + 1] < 0x80) {
        const n2 = (n & 0x7f) | (b[p + 1] << 7);
        if (n2 < end - p - 1) {
          r.pos = p + 2;
          return n2;
        }
      }
    }
    return r.length(end);
  }

  /** Skips a length-delimited value (r.pos at its length). */
  skipLen(end: number): void {
    const len = this.len(end);
    this.r.pos += len;
  }

  /** A fixed64 at r.pos (a timestamp), as a double. */
  fixed64(end: number): number {
    const p = this.r.pos;
    if (end - p < 8) throw wireError('truncated 64-bit value', p);
    this.r.pos = p + 8;
    return this.fixed64At(p);
  }

  /** The fixed64 at `p` (the caller checked the 8 bytes are there), as a double. */
  fixed64At(p: number): number {
    return this.view.getUint32(p + 4, true) * 0x100000000 + this.view.getUint32(p, true);
  }

  /** A timestamp of the item: 0 means absent (`zeroReason`), else it must fall in the window. */
  checkTime(ns: number, zeroReason: number): void {
    if (this.reason !== 0) return;
    if (ns === 0) {
      this.reason = zeroReason;
    } else if (ns < this.minNs) {
      this.reason = R_PAST;
      this.reasonNs = this.nowNs - ns;
    } else if (ns > this.maxNs) {
      this.reason = R_FUTURE;
      this.reasonNs = ns - this.nowNs;
    }
  }

  /** Whether `len` bytes at `start` are all zero (an invalid trace or span id). */
  isZero(start: number, len: number): boolean {
    const b = this.buf;
    for (let i = start; i < start + len; i++) if (b[i] !== 0) return false;
    return true;
  }

  /** One attribute (a KeyValue field, r.pos after its tag) of a list whose values are depth 1. */
  attribute(end: number): void {
    const next = this.plainAttribute(this.r.pos, end);
    if (next !== -1) {
      this.r.pos = next;
      return;
    }
    const len = this.len(end);
    this.keyValue(this.r.pos + len, 1);
  }

  /**
   * The attributes almost every item has, checked without the general walk (the gateway's hot
   * path): a KeyValue of at most 127 bytes that is exactly a key and a scalar value (a string
   * needing no truncation, an int, a bool, a double). Returns the offset after the attribute, or
   * -1 for anything else, which the general walk then handles (reaching the same verdict, or the
   * error the codec would raise).
   *
   * Its key and string are not checked here but added to the pending text run (see textRun),
   * checked in one go when the item (or container attribute) is settled.
   */
  plainAttribute(p: number, end: number): number {
    const b = this.buf;
    if (p >= end) return -1;
    const kvEnd = p + 1 + b[p];
    const keyEnd = p + 3 + b[p + 2];
    const v = keyEnd + 2; // the AnyValue's first tag
    // One-byte lengths throughout: each follows from its field ending exactly at kvEnd < p + 0x81.
    if (kvEnd > end || b[p] >= 0x80 || v >= kvEnd || b[p + 1] !== KV_KEY || b[keyEnd] !== KV_VALUE || v + b[keyEnd + 1] !== kvEnd) return -1;
    const type = b[v];
    if (type === AV_STRING) {
      if (v + 2 + b[v + 1] !== kvEnd || b[v + 1] > this.maxValueBytes) return -1;
      this.textRun(p + 3, kvEnd);
      return kvEnd;
    }
    return this.plainScalar(p + 3, keyEnd, v, kvEnd, type);
  }

  /** plainAttribute's int, bool and double values (kept apart so the string case stays small enough to inline). */
  private plainScalar(keyStart: number, keyEnd: number, v: number, kvEnd: number, type: number): number {
    const b = this.buf;
    if (type === AV_INT || type === AV_BOOL) {
      // A varint filling the rest exactly: continuation bits on all bytes but the last, at most 10.
      const last = kvEnd - 1;
      if (last <= v || last - v > 10 || b[last] >= 0x80 || (last - v === 10 && b[last] > 1)) return -1;
      for (let q = v + 1; q < last; q++) if (b[q] < 0x80) return -1;
    } else if (type !== AV_DOUBLE || v + 9 !== kvEnd) {
      return -1;
    }
    // The value's bytes follow the key, so nothing can join this run: it is checked now.
    this.textRun(keyStart, keyEnd);
    this.checkText();
    return kvEnd;
  }

  /**
   * Adds the text [start, end) to the pending run, or checks the run and starts a new one. A
   * plain attribute's range starts 4 bytes after the previous one's end exactly when it follows
   * it directly, and those 4 bytes (field tag, KeyValue length, key tag, key length) are all
   * below 0x80, as are the tag and lengths inside a plain string attribute: so a run is valid
   * UTF-8 exactly when every key and string in it is, and one check covers them all.
   */
  private textRun(start: number, end: number): void {
    if (start !== this.textEnd + 4) {
      this.checkText();
      this.textStart = start;
    }
    this.textEnd = end;
  }

  /** Checks the pending text run (throws OtlpDecodeError unless it is UTF-8) and clears it. */
  checkText(): void {
    const start = this.textStart;
    const end = this.textEnd;
    this.textStart = this.textEnd = NO_TEXT;
    if (end > start) this.text.utf8(start, end);
  }

  /** A KeyValue whose value sits at AnyValue depth `depth`. */
  keyValue(end: number, depth: number): void {
    const r = this.r;
    while (r.pos < end) {
      const at = r.pos;
      const tag = this.tag(end);
      if (tag === KV_KEY) {
        this.string(end);
      } else if (tag === KV_VALUE) {
        const len = this.len(end);
        this.anyValue(r.pos + len, depth);
      } else {
        this.other(tag, at, end, KEY_VALUE_FIELDS, 'KeyValue');
      }
    }
  }

  /** An AnyValue at nesting `depth`: too deep rejects the item; long strings get a truncation edit. */
  anyValue(end: number, depth: number): void {
    const r = this.r;
    if (depth > this.maxDepth) {
      this.reject(this.depthReason);
      r.pos = end;
      return;
    }
    while (r.pos < end) {
      const at = r.pos;
      const tag = this.tag(end);
      switch (tag) {
        case AV_STRING: {
          const len = this.len(end);
          this.text.utf8(r.pos, r.pos + len); // before any truncation, which assumes valid UTF-8
          if (len > this.maxValueBytes && this.truncating) this.truncate(r.pos, len);
          r.pos += len;
          break;
        }
        case AV_BOOL:
        case AV_INT:
          r.skipVarint(end);
          break;
        case AV_DOUBLE:
          r.fixed(8, end);
          break;
        case AV_ARRAY:
        case AV_KVLIST: {
          const len = this.len(end);
          this.list(r.pos + len, depth + 1, tag === AV_KVLIST);
          break;
        }
        case AV_BYTES:
          this.skipLen(end);
          break;
        default:
          this.other(tag, at, end, ANY_VALUE_FIELDS, 'AnyValue');
      }
    }
  }

  /** ArrayValue (AnyValues) or KeyValueList (KeyValues) whose elements are at `depth`. */
  private list(end: number, depth: number, keyValues: boolean): void {
    const r = this.r;
    while (r.pos < end) {
      const at = r.pos;
      const tag = this.tag(end);
      if (tag === LIST_VALUES) {
        const len = this.len(end);
        if (keyValues) this.keyValue(r.pos + len, depth);
        else this.anyValue(r.pos + len, depth);
      } else {
        this.other(tag, at, end, LIST_FIELDS, keyValues ? 'KeyValueList' : 'ArrayValue');
      }
    }
  }

  private truncate(start: number, len: number): void {
    this.push(start, start + len, truncateUtf8(this.buf.subarray(start, start + len), this.maxValueBytes));
  }

  get editCount(): number {
    return this.editStart.length;
  }

  private push(start: number, end: number, repl: Uint8Array | null): void {
    this.editStart.push(start);
    this.editEnd.push(end);
    this.editRepl.push(repl);
  }

  /** Forgets the edits made since `mark` (they lie inside something now dropped whole). */
  private rollback(mark: number): void {
    this.editStart.length = mark;
    this.editEnd.length = mark;
    this.editRepl.length = mark;
  }

  /**
   * After walking one item whose field spans [at, end): if it failed a check it is dropped (its
   * truncations with it) and counted. Returns the reason it was rejected, or 0 when kept. The
   * caller counts the item in `items`, resets `reason` and takes `mark` (editCount) before the walk.
   */
  settleItem(mark: number, at: number, end: number): number {
    if (this.textEnd > this.textStart) {
      try {
        this.checkText();
      } catch (err) {
        this.reject(this.malformed(err, this.r.pos, R_MALFORMED));
      }
    }
    const code = this.reason;
    if (code === 0) return 0;
    this.reason = 0;
    this.rollback(mark);
    this.push(at, end, null);
    this.tally.add(code, 1);
    if (code === R_PAST && this.reasonNs > this.tally.worstPastNs) this.tally.worstPastNs = this.reasonNs;
    if (code === R_FUTURE && this.reasonNs > this.tally.worstFutureNs) this.tally.worstFutureNs = this.reasonNs;
    return code;
  }

  /**
   * After walking a container (resource entry, scope entry, metric) spanning [at, end), begun
   * at `start` (containerStart): a failed check of the container itself (`containerReason`)
   * rejects the rest of its items and drops it, even when it holds none (storage must be able
   * to decode every resource and scope that travels on); a container whose every item was
   * rejected, or emptied by dropping what it held, is dropped whole, so nothing empty travels on.
   */
  settleContainer(start: ContainerStart, at: number, end: number, containerReason: number): void {
    const items = this.items - start.items;
    const rejected = this.tally.rejected - start.rejected;
    if (containerReason !== 0) this.tally.add(containerReason, items - rejected);
    else if (rejected < items || (items === 0 && this.drops === start.drops)) return;
    this.rollback(start.mark);
    this.push(at, end, null);
    this.drops++;
  }

  /** Where a container's walk began: what settleContainer compares against. */
  containerStart(): ContainerStart {
    return { mark: this.editCount, items: this.items, rejected: this.tally.rejected, drops: this.drops };
  }

  /**
   * A structural error (OtlpDecodeError) met while walking something that ends at `end`: the walk
   * resumes there (the enclosing length is intact), with the walk state reset, and `code` is
   * returned as the verdict, its detail kept for the message. Anything else is a bug: rethrown.
   */
  malformed(err: unknown, end: number, code: number): number {
    if (!(err instanceof OtlpDecodeError)) throw err;
    this.r.pos = end;
    this.depthReason = R_DEPTH;
    this.truncating = true;
    this.textStart = this.textEnd = NO_TEXT; // the text of what is rejected needs no check
    this.tally.note(code, err.message);
    return code;
  }

  /**
   * One attribute of a container (resource, scope, metric metadata) at r.pos (after the field
   * tag): walked with its own depth reason, apart from any item's verdict, and its text checked
   * at once. Returns a failed check's reason, or 0: `malformedCode` for a structural error
   * inside it (the walk goes on after it; only a broken length of its own propagates).
   */
  containerAttribute(end: number, depthReason: number, malformedCode: number): number {
    const r = this.r;
    const at = r.pos;
    const len = this.len(end);
    const kvEnd = r.pos + len;
    r.pos = at;
    this.reason = 0;
    this.depthReason = depthReason;
    let code;
    try {
      this.attribute(kvEnd);
      this.checkText();
      code = this.reason;
    } catch (err) {
      code = this.malformed(err, kvEnd, malformedCode);
    }
    this.reason = 0;
    this.depthReason = R_DEPTH;
    return code;
  }

  /** A string field of a container (r.pos at its length): returns `malformedCode` when it is not UTF-8, else 0. */
  containerString(end: number, malformedCode: number): number {
    const r = this.r;
    const len = this.len(end);
    const stop = r.pos + len;
    try {
      this.text.utf8(r.pos, stop);
    } catch (err) {
      return this.malformed(err, stop, malformedCode);
    }
    r.pos = stop;
    return 0;
  }
}

export interface ContainerStart {
  mark: number;
  items: number;
  rejected: number;
  drops: number;
}
