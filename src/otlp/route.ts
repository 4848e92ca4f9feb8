/**
 * The gateway's routing scanner: splits an OTLP/protobuf Export request into one standalone
 * request per service, counting items on the way, without building any message objects.
 *
 * It walks only the levels it needs (request -> resource entry -> resource attributes -> scope ->
 * item tags) and validates those: lengths within bounds, wire types of known fields. Items are
 * counted by their tags and skipped by length, never descended into; full validation happens
 * when a consumer decodes the part.
 */
import { OtlpDecodeError } from './errors.ts';
import { WT_LEN, WT_VARINT, WireReader, wireError } from './wire.ts';
import type { Signal } from '../telemetry/signals.ts';

export interface RoutedPart {
  /** The resource's `service.name` attribute, or `unknown_service` when it has none. */
  serviceName: string;
  /** Spans, log records or metric data points (all five point types) in `bytes`. */
  items: number;
  /** A valid Export request holding only this service's resource entries. */
  bytes: Uint8Array;
}

/** The OpenTelemetry SDK's fallback when a resource carries no service.name. */
export const UNKNOWN_SERVICE = 'unknown_service';

const SERVICE_NAME = new TextEncoder().encode('service.name');
const utf8 = new TextDecoder('utf-8', { fatal: true });
const NONE = -1;

/** Expected wire type per field number for the levels we walk; NONE for fields we do not know. */
function wireTypes(entries: Record<number, number>): Int8Array {
  const max = Math.max(...Object.keys(entries).map(Number));
  const t = new Int8Array(max + 1).fill(NONE);
  for (const [no, wt] of Object.entries(entries)) t[Number(no)] = wt;
  return t;
}

// ResourceSpans / ResourceMetrics / ResourceLogs, and ScopeSpans / ScopeMetrics / ScopeLogs share their layout.
const RESOURCE_ENTRY = wireTypes({ 1: WT_LEN, 2: WT_LEN, 3: WT_LEN });
const SCOPE_ENTRY = wireTypes({ 1: WT_LEN, 2: WT_LEN, 3: WT_LEN });
const RESOURCE = wireTypes({ 1: WT_LEN, 2: WT_VARINT, 3: WT_LEN });
const KEY_VALUE = wireTypes({ 1: WT_LEN, 2: WT_LEN });
const ANY_VALUE = wireTypes({ 1: WT_LEN, 2: WT_VARINT, 3: WT_VARINT, 4: 1, 5: WT_LEN, 6: WT_LEN, 7: WT_LEN });
const METRIC = wireTypes({ 1: WT_LEN, 2: WT_LEN, 3: WT_LEN, 5: WT_LEN, 7: WT_LEN, 9: WT_LEN, 10: WT_LEN, 11: WT_LEN, 12: WT_LEN });
/** Metric.data oneof field number -> the layout of that data message (field 1 is always data_points). */
const METRIC_DATA: (Int8Array | undefined)[] = [];
METRIC_DATA[5] = wireTypes({ 1: WT_LEN }); // Gauge
METRIC_DATA[7] = wireTypes({ 1: WT_LEN, 2: WT_VARINT, 3: WT_VARINT }); // Sum
METRIC_DATA[9] = wireTypes({ 1: WT_LEN, 2: WT_VARINT }); // Histogram
METRIC_DATA[10] = wireTypes({ 1: WT_LEN, 2: WT_VARINT }); // ExponentialHistogram
METRIC_DATA[11] = wireTypes({ 1: WT_LEN }); // Summary

const LEVEL_NAMES = new Map<Int8Array, string>([
  [RESOURCE_ENTRY, 'resource entry'],
  [SCOPE_ENTRY, 'scope entry'],
  [RESOURCE, 'Resource'],
  [KEY_VALUE, 'KeyValue'],
  [ANY_VALUE, 'AnyValue'],
  [METRIC, 'Metric'],
]);

/** Reads the next tag inside `end`, checking a known field's wire type against `layout`. */
function nextTag(r: WireReader, end: number, layout: Int8Array): number {
  const at = r.pos;
  const tag = r.tag(end);
  const no = tag >>> 3;
  if (no < layout.length) {
    const expected = layout[no];
    if (expected !== NONE && expected !== (tag & 7)) {
      const level = LEVEL_NAMES.get(layout) ?? 'metric data';
      throw wireError(`${level} field ${no} has wire type ${tag & 7}, expected ${expected}`, at);
    }
  }
  return tag;
}

interface Group {
  serviceName: string;
  items: number;
  size: number;
  /** Start and end offsets of each resource entry, flattened. */
  ranges: number[];
}

/** Splits an Export request into per-service standalone requests; throws OtlpDecodeError on malformed input. */
export function splitByResource(signal: Signal, bytes: Uint8Array): RoutedPart[] {
  if (!(bytes instanceof Uint8Array)) throw new OtlpDecodeError('expected protobuf bytes (a Uint8Array)');
  const metrics = signal === 'metrics';
  const r = new WireReader(bytes);
  const end = bytes.length;
  const groups = new Map<string, Group>();
  const scan = { serviceName: UNKNOWN_SERVICE, items: 0 };
  while (r.pos < end) {
    const at = r.pos;
    const tag = r.tag(end);
    const no = tag >>> 3;
    if (no !== 1) {
      // Unknown top-level fields carry nothing we can route; they are dropped from the parts.
      r.skip(tag & 7, no, end);
      continue;
    }
    if ((tag & 7) !== WT_LEN) throw wireError(`request field 1 has wire type ${tag & 7}, expected ${WT_LEN}`, at);
    const len = r.length(end);
    const start = r.pos;
    scanResourceEntry(r, start + len, metrics, scan);
    let g = groups.get(scan.serviceName);
    if (g === undefined) {
      g = { serviceName: scan.serviceName, items: 0, size: 0, ranges: [] };
      groups.set(scan.serviceName, g);
    }
    g.items += scan.items;
    g.size += 1 + varintSize(len) + len;
    g.ranges.push(start, start + len);
  }
  const parts: RoutedPart[] = [];
  for (const g of groups.values()) {
    // The common case, one service per request (what an SDK sends): the request is already
    // the part, so it is forwarded as is, without a copy.
    const whole = groups.size === 1 && g.size === end;
    parts.push({ serviceName: g.serviceName, items: g.items, bytes: whole ? bytes : assemble(bytes, g) });
  }
  return parts;
}

function scanResourceEntry(r: WireReader, end: number, metrics: boolean, out: { serviceName: string; items: number }): void {
  let serviceName: string | undefined;
  let items = 0;
  while (r.pos < end) {
    const tag = nextTag(r, end, RESOURCE_ENTRY);
    const no = tag >>> 3;
    if (no === 1) {
      const len = r.length(end);
      const name = scanResource(r, r.pos + len);
      if (serviceName === undefined) serviceName = name;
    } else if (no === 2) {
      const len = r.length(end);
      items += metrics ? scanScopeMetrics(r, r.pos + len) : scanScopeItems(r, r.pos + len);
    } else {
      r.skip(tag & 7, no, end);
    }
  }
  out.serviceName = serviceName ?? UNKNOWN_SERVICE;
  out.items = items;
}

/** Returns the resource's service.name (first string-valued one), or undefined. */
function scanResource(r: WireReader, end: number): string | undefined {
  let found: string | undefined;
  while (r.pos < end) {
    const tag = nextTag(r, end, RESOURCE);
    const no = tag >>> 3;
    if (no === 1) {
      const len = r.length(end);
      const kvEnd = r.pos + len;
      if (found === undefined) found = scanKeyValue(r, kvEnd);
      r.pos = kvEnd;
    } else {
      r.skip(tag & 7, no, end);
    }
  }
  return found;
}

/** The string value of a `service.name` KeyValue, else undefined. */
function scanKeyValue(r: WireReader, end: number): string | undefined {
  const buf = r.buf;
  let isServiceName = false;
  // protobuf merges repeated occurrences of the singular `value`; track the string across them.
  let strStart = NONE;
  let strEnd = NONE;
  while (r.pos < end) {
    const tag = nextTag(r, end, KEY_VALUE);
    const no = tag >>> 3;
    if (no === 1) {
      const len = r.length(end);
      isServiceName = len === SERVICE_NAME.length && sameBytes(buf, r.pos, SERVICE_NAME);
      r.pos += len;
    } else if (no === 2) {
      const valueLen = r.length(end);
      const valueEnd = r.pos + valueLen;
      while (r.pos < valueEnd) {
        const vtag = nextTag(r, valueEnd, ANY_VALUE);
        const vno = vtag >>> 3;
        if (vno === 1) {
          const len = r.length(valueEnd);
          strStart = r.pos;
          strEnd = r.pos + len;
          r.pos = strEnd;
        } else {
          if (vno >= 2 && vno <= 7) strStart = NONE; // another oneof member replaces the string
          r.skip(vtag & 7, vno, valueEnd);
        }
      }
    } else {
      r.skip(tag & 7, no, end);
    }
  }
  // Only a string_value names a service.
  if (!isServiceName || strStart === NONE) return undefined;
  try {
    return utf8.decode(buf.subarray(strStart, strEnd));
  } catch {
    throw wireError('service.name is not valid UTF-8', strStart);
  }
}

function sameBytes(buf: Uint8Array, at: number, expected: Uint8Array): boolean {
  for (let i = 0; i < expected.length; i++) if (buf[at + i] !== expected[i]) return false;
  return true;
}

/** Counts the occurrences of one length-delimited field (items), skipping the others. */
function countField(r: WireReader, end: number, layout: Int8Array, field: number): number {
  let count = 0;
  while (r.pos < end) {
    const tag = nextTag(r, end, layout);
    const no = tag >>> 3;
    if (no === field) {
      const len = r.length(end);
      r.pos += len;
      count++;
    } else {
      r.skip(tag & 7, no, end);
    }
  }
  return count;
}

/** ScopeSpans / ScopeLogs: counts field 2 (spans, log_records). */
function scanScopeItems(r: WireReader, end: number): number {
  return countField(r, end, SCOPE_ENTRY, 2);
}

function scanScopeMetrics(r: WireReader, end: number): number {
  let items = 0;
  while (r.pos < end) {
    const tag = nextTag(r, end, SCOPE_ENTRY);
    const no = tag >>> 3;
    if (no === 2) {
      const len = r.length(end);
      items += scanMetric(r, r.pos + len);
    } else {
      r.skip(tag & 7, no, end);
    }
  }
  return items;
}

function scanMetric(r: WireReader, end: number): number {
  let items = 0;
  let member = 0;
  while (r.pos < end) {
    const tag = nextTag(r, end, METRIC);
    const no = tag >>> 3;
    const layout = no < METRIC_DATA.length ? METRIC_DATA[no] : undefined;
    if (layout !== undefined) {
      const len = r.length(end);
      const points = countDataPoints(r, r.pos + len, layout);
      // As protobuf decodes the data oneof: another member replaces the earlier one, so only its
      // points count; occurrences of the same member in a row merge, so their points add up.
      items = no === member ? items + points : points;
      member = no;
    } else {
      r.skip(tag & 7, no, end);
    }
  }
  return items;
}

/** A metric's data (Gauge, Sum, ...): counts field 1 (data_points). */
function countDataPoints(r: WireReader, end: number, layout: Int8Array): number {
  return countField(r, end, layout, 1);
}

function varintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

/** One allocation per part: field-1 tag, length, entry bytes, for each of the group's entries. */
function assemble(src: Uint8Array, g: Group): Uint8Array {
  const out = Buffer.allocUnsafe(g.size);
  let o = 0;
  const ranges = g.ranges;
  for (let i = 0; i < ranges.length; i += 2) {
    const start = ranges[i];
    let len = ranges[i + 1] - start;
    out[o++] = 0x0a; // field 1, wire type 2
    while (len >= 0x80) {
      out[o++] = (len & 0x7f) | 0x80;
      len >>>= 7;
    }
    out[o++] = len;
    out.set(src.subarray(start, ranges[i + 1]), o);
    o += ranges[i + 1] - start;
  }
  return out;
}
