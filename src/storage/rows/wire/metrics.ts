/** ExportMetricsServiceRequest bytes -> JSONEachRow bytes of the five otel_metrics_* tables (same rows as ../metrics.ts). */
import { wireError, type MessageSpec } from '../../../otlp/index.ts';
import type { TenantId } from '../../../telemetry/signals.ts';
import { METRIC_TABLES } from '../../schema.ts';
import { Ranges, writeAttributes } from './any-value-bytes.ts';
import { checkMessage, skipField } from './check.ts';
import { WireCursor } from './cursor.ts';
import { JsonBytes, fragment } from './json-bytes.ts';
import { i64Number } from './numbers.ts';
import { bytesOf, resourceTextWithSchemaUrl, scopeScratch, skipKnown, walkExport, type SignalRows } from './resource-scope.ts';
import {
  BUCKETS,
  EXEMPLAR,
  EXPORT_METRICS,
  EXP_HISTOGRAM,
  EXP_HISTOGRAM_POINT,
  GAUGE,
  HISTOGRAM,
  HISTOGRAM_POINT,
  METRIC,
  NUMBER_POINT,
  RESOURCE_METRICS,
  SCOPE_METRICS,
  SUM,
  SUMMARY,
  SUMMARY_POINT,
  VALUE_AT_QUANTILE,
} from './specs.ts';
import { checkUtf8, jsonQuote } from './text.ts';
import type { TextRowSink } from './text-sink.ts';

/** Writers of the five tables for the record being decoded. */
interface Outputs {
  gauge: JsonBytes;
  sum: JsonBytes;
  histogram: JsonBytes;
  exponentialHistogram: JsonBytes;
  summary: JsonBytes;
}

const pointAttrs = new Ranges();
const subAttrs = new Ranges();

const F_SCOPE_NAME = fragment(',"ScopeName":');
const F_SCOPE_VERSION = fragment(',"ScopeVersion":');
const F_SCOPE_ATTRIBUTES = fragment(',"ScopeAttributes":');
const F_SCOPE_DROPPED = fragment(',"ScopeDroppedAttrCount":');
const F_SCOPE_SCHEMA_URL = fragment(',"ScopeSchemaUrl":');
const F_METRIC_NAME = fragment(',"MetricName":');
const F_METRIC_DESCRIPTION = fragment(',"MetricDescription":');
const F_METRIC_UNIT = fragment(',"MetricUnit":');
const F_TEMPORALITY = fragment(',"AggregationTemporality":');
const F_MONOTONIC = fragment(',"IsMonotonic":');
const TRUE = fragment('true');
const FALSE = fragment('false');
const F_ROW_END = fragment('}\n');

const METRIC_ROWS: SignalRows<Outputs, Buffer, Buffer> = {
  request: EXPORT_METRICS,
  resourceX: RESOURCE_METRICS,
  scopeX: SCOPE_METRICS,
  keepsSchemaUrls: true,
  resourceText: resourceTextWithSchemaUrl,
  scopeText(c, resource, scope, schemaJson) {
    const w = scopeScratch(resource);
    w.raw(F_SCOPE_NAME);
    w.utf8(scope.nameJson);
    w.raw(F_SCOPE_VERSION);
    w.utf8(scope.versionJson);
    w.raw(F_SCOPE_ATTRIBUTES);
    writeAttributes(c, w, scope.attrs, false);
    w.raw(F_SCOPE_DROPPED);
    w.uint(scope.dropped);
    w.raw(F_SCOPE_SCHEMA_URL);
    w.utf8(schemaJson);
    return bytesOf(w);
  },
  item: (c, start, end, _head, scopeText, out) => metric(c, start, end, scopeText, out),
};

/** The row head of the record being mapped ('{"TenantId":...', no comma: the resource text starts with one). */
let head: Buffer = Buffer.alloc(0);

const DATA_SPECS: (MessageSpec | undefined)[] = [];
DATA_SPECS[5] = GAUGE;
DATA_SPECS[7] = SUM;
DATA_SPECS[9] = HISTOGRAM;
DATA_SPECS[10] = EXP_HISTOGRAM;
DATA_SPECS[11] = SUMMARY;

// Occurrences of Metric.data fields in one metric: field number, start, end.
const dataOcc: number[] = [];

/** What every row of the metric being mapped starts with: head, resource and scope text, metric columns. */
const prefix = new JsonBytes(1 << 12);

function metric(c: WireCursor, start: number, end: number, scopeText: Buffer, out: Outputs): number {
  let nameS = 0;
  let nameE = 0;
  let descriptionS = 0;
  let descriptionE = 0;
  let unitS = 0;
  let unitE = 0;
  let nOcc = 0;
  const b = c.b;
  c.pos = start;
  while (c.pos < end) {
    const tag = c.tag(end);
    const no = tag >>> 3;
    if ((tag & 7) === 2 && no <= 3) {
      // A string replaced by a later occurrence is never written, so it is validated now.
      const s = c.skipDelimited(end);
      if (no === 1) {
        if (nameE !== nameS) checkUtf8(b, nameS, nameE);
        nameS = s;
        nameE = c.pos;
      } else if (no === 2) {
        if (descriptionE !== descriptionS) checkUtf8(b, descriptionS, descriptionE);
        descriptionS = s;
        descriptionE = c.pos;
      } else {
        if (unitE !== unitS) checkUtf8(b, unitS, unitE);
        unitS = s;
        unitE = c.pos;
      }
    } else if ((tag & 7) === 2 && no < DATA_SPECS.length && DATA_SPECS[no] !== undefined) {
      const len = c.length(end);
      dataOcc[nOcc++] = no;
      dataOcc[nOcc++] = c.pos;
      dataOcc[nOcc++] = c.pos + len;
      c.pos += len;
    } else {
      skipField(c, tag, end, METRIC, 0);
    }
  }
  // The strings are validated even when the metric has no data (as protobufjs decodes them).
  const p = prefix;
  p.pos = 0;
  p.raw(head);
  p.raw(scopeText);
  p.raw(F_METRIC_NAME);
  p.jsonString(b, nameS, nameE);
  p.raw(F_METRIC_DESCRIPTION);
  p.jsonString(b, descriptionS, descriptionE);
  p.raw(F_METRIC_UNIT);
  p.jsonString(b, unitS, unitE);
  if (nOcc === 0) return 0;
  // The data oneof: the last member set wins; its occurrences since another member was set merge.
  const winner = dataOcc[nOcc - 3];
  let first = nOcc - 3;
  while (first >= 3 && dataOcc[first - 3] === winner) first -= 3;
  // Occurrences a later member replaced are decoded (and so validated) by protobufjs too.
  for (let i = 0; i < first; i += 3) checkMessage(c, DATA_SPECS[dataOcc[i]]!, dataOcc[i + 1], dataOcc[i + 2], 0);
  return dataPoints(c, winner, first, nOcc, out);
}

/** The rows of the winning data member, whose merged occurrences are dataOcc[from, to). */
function dataPoints(c: WireCursor, member: number, from: number, to: number, out: Outputs): number {
  const spec = DATA_SPECS[member]!;
  // First the data message's own fields (last value wins across merged occurrences).
  let temporality = 0;
  let monotonic = false;
  for (let i = from; i < to; i += 3) {
    const end = dataOcc[i + 2];
    c.pos = dataOcc[i + 1];
    while (c.pos < end) {
      const tag = c.tag(end);
      if (tag === 0x0a) c.pos = c.length(end) + c.pos; // length() moves pos past the prefix first
      else if (tag === 0x10 && member !== 5 && member !== 11) temporality = c.varint(end) | 0;
      else if (tag === 0x18 && member === 7) {
        const lo = c.varint(end);
        monotonic = lo !== 0 || c.hi !== 0;
      } else skipField(c, tag, end, spec, 0);
    }
  }
  const w = member === 5 ? out.gauge : member === 7 ? out.sum : member === 9 ? out.histogram : member === 10 ? out.exponentialHistogram : out.summary;
  let rows = 0;
  for (let i = from; i < to; i += 3) {
    const end = dataOcc[i + 2];
    c.pos = dataOcc[i + 1];
    while (c.pos < end) {
      const tag = c.tag(end);
      if (tag === 0x0a) {
        const e = c.delimited(end);
        const s = c.pos;
        w.copy(prefix.buf, 0, prefix.pos);
        if (member === 5 || member === 7) numberPoint(c, s, e, w);
        else if (member === 9) histogramPoint(c, s, e, w);
        else if (member === 10) exponentialHistogramPoint(c, s, e, w);
        else summaryPoint(c, s, e, w);
        if (member !== 5 && member !== 11) {
          w.raw(F_TEMPORALITY);
          w.int(temporality);
          if (member === 7) {
            w.raw(F_MONOTONIC);
            w.raw(monotonic ? TRUE : FALSE);
          }
        }
        w.raw(F_ROW_END);
        w.rows++;
        c.pos = e;
        rows++;
      } else {
        skipKnown(c, tag, end);
      }
    }
  }
  return rows;
}

// Exemplars of the point being decoded, written as met (parallel arrays of the Nested columns).
let exCount = 0;
const exAttrs = new JsonBytes(1 << 12);
const exTimes = new JsonBytes(1 << 12);
const exValues = new JsonBytes(1 << 12);
const exSpans = new JsonBytes(1 << 12);
const exTraces = new JsonBytes(1 << 12);

const F_NO_EXEMPLARS = fragment(
  ',"Exemplars.FilteredAttributes":[],"Exemplars.TimeUnix":[],"Exemplars.Value":[],"Exemplars.SpanId":[],"Exemplars.TraceId":[]',
);
const F_EX_ATTRIBUTES = fragment(',"Exemplars.FilteredAttributes":[');
const F_EX_TIMES = fragment('],"Exemplars.TimeUnix":[');
const F_EX_VALUES = fragment('],"Exemplars.Value":[');
const F_EX_SPANS = fragment('],"Exemplars.SpanId":[');
const F_EX_TRACES = fragment('],"Exemplars.TraceId":[');
const F_CLOSE = fragment(']');

function exemplarColumns(w: JsonBytes): void {
  if (exCount === 0) {
    w.raw(F_NO_EXEMPLARS);
    return;
  }
  w.raw(F_EX_ATTRIBUTES);
  w.copy(exAttrs.buf, 0, exAttrs.pos);
  w.raw(F_EX_TIMES);
  w.copy(exTimes.buf, 0, exTimes.pos);
  w.raw(F_EX_VALUES);
  w.copy(exValues.buf, 0, exValues.pos);
  w.raw(F_EX_SPANS);
  w.copy(exSpans.buf, 0, exSpans.pos);
  w.raw(F_EX_TRACES);
  w.copy(exTraces.buf, 0, exTraces.pos);
  w.raw(F_CLOSE);
}

const V_NONE = 0;
const V_DOUBLE = 1;
const V_INT = 2;

function exemplar(c: WireCursor, start: number, end: number): void {
  let timeHi = 0;
  let timeLo = 0;
  let kind = V_NONE;
  let dbl = 0;
  let intHi = 0;
  let intLo = 0;
  let spanS = 0;
  let spanE = 0;
  let traceS = 0;
  let traceE = 0;
  subAttrs.n = 0;
  c.pos = start;
  while (c.pos < end) {
    const tag = c.tag(end);
    switch (tag) {
      case 0x11:
        timeLo = c.fixed64(end);
        timeHi = c.hi;
        break;
      case 0x19:
        dbl = c.double(end);
        kind = V_DOUBLE;
        break;
      case 0x22:
        spanS = c.skipDelimited(end);
        spanE = c.pos;
        break;
      case 0x2a:
        traceS = c.skipDelimited(end);
        traceE = c.pos;
        break;
      case 0x31:
        intLo = c.fixed64(end);
        intHi = c.hi;
        kind = V_INT;
        break;
      case 0x3a:
        subAttrs.pushField(c, end);
        break;
      default:
        skipField(c, tag, end, EXEMPLAR, 0);
    }
  }
  if (exCount++ === 0) {
    exAttrs.pos = exTimes.pos = exValues.pos = exSpans.pos = exTraces.pos = 0;
  } else {
    exAttrs.byte(0x2c);
    exTimes.byte(0x2c);
    exValues.byte(0x2c);
    exSpans.byte(0x2c);
    exTraces.byte(0x2c);
  }
  writeAttributes(c, exAttrs, subAttrs, false);
  exTimes.byte(0x22);
  exTimes.nanos(timeHi, timeLo);
  exTimes.byte(0x22);
  pointValue(exValues, kind, dbl, intHi, intLo);
  exSpans.byte(0x22);
  exSpans.hex(c.b, spanS, spanE);
  exSpans.byte(0x22);
  exTraces.byte(0x22);
  exTraces.hex(c.b, traceS, traceE);
  exTraces.byte(0x22);
}

/** ../metrics.ts pointValue: the double, else the int as a (possibly rounded) number, else 0. */
function pointValue(w: JsonBytes, kind: number, dbl: number, hi: number, lo: number): void {
  if (kind === V_DOUBLE) w.float(dbl);
  else if (kind === V_INT) w.latin1(String(i64Number(hi, lo)));
  else w.byte(0x30);
}

/**
 * Where a histogram, exponential histogram or summary point keeps the fields those types share:
 * start time, time, count and sum are fields 2-5 in all three, the rest move (0 = no such field).
 */
interface PointLayout {
  readonly spec: MessageSpec;
  readonly attributes: number;
  readonly exemplars: number;
  readonly flags: number;
  readonly min: number;
  readonly max: number;
}

const HISTOGRAM_LAYOUT: PointLayout = { spec: HISTOGRAM_POINT, attributes: 0x4a, exemplars: 0x42, flags: 0x50, min: 0x59, max: 0x61 };
const EXP_HISTOGRAM_LAYOUT: PointLayout = { spec: EXP_HISTOGRAM_POINT, attributes: 0x0a, exemplars: 0x5a, flags: 0x50, min: 0x61, max: 0x69 };
const SUMMARY_LAYOUT: PointLayout = { spec: SUMMARY_POINT, attributes: 0x3a, exemplars: 0, flags: 0x40, min: 0, max: 0 };

/** The shared fields of the point being decoded. */
class PointHeader {
  startHi = 0;
  startLo = 0;
  timeHi = 0;
  timeLo = 0;
  countHi = 0;
  countLo = 0;
  sum = 0;
  min = 0;
  max = 0;
  flags = 0;
}
const pt = new PointHeader();

function beginPoint(c: WireCursor, start: number): void {
  pt.startHi = pt.startLo = pt.timeHi = pt.timeLo = pt.countHi = pt.countLo = 0;
  pt.sum = pt.min = pt.max = pt.flags = 0;
  pointAttrs.n = 0;
  exCount = 0;
  c.pos = start;
}

/** A point field the type's own switch did not take: a shared one, else validated and skipped. */
function pointField(c: WireCursor, tag: number, end: number, layout: PointLayout): void {
  if (tag === 0x11) {
    pt.startLo = c.fixed64(end);
    pt.startHi = c.hi;
  } else if (tag === 0x19) {
    pt.timeLo = c.fixed64(end);
    pt.timeHi = c.hi;
  } else if (tag === layout.attributes) {
    pointAttrs.pushField(c, end);
  } else if (tag === layout.exemplars) {
    const e = c.delimited(end);
    exemplar(c, c.pos, e);
    c.pos = e;
  } else if (tag === layout.flags) {
    pt.flags = c.varint(end);
  } else if (tag === 0x21) {
    pt.countLo = c.fixed64(end);
    pt.countHi = c.hi;
  } else if (tag === 0x29) {
    pt.sum = c.double(end);
  } else if (tag === layout.min) {
    pt.min = c.double(end);
  } else if (tag === layout.max) {
    pt.max = c.double(end);
  } else {
    skipField(c, tag, end, layout.spec, 0);
  }
}

const F_ATTRIBUTES = fragment(',"Attributes":');
const F_START_TIME = fragment(',"StartTimeUnix":"');
const F_TIME = fragment('","TimeUnix":"');
const F_TIME_END = fragment('"');
const F_COUNT = fragment(',"Count":"');
const F_SUM = fragment('","Sum":');
const F_VALUE = fragment(',"Value":');
const F_FLAGS = fragment(',"Flags":');
const F_MIN = fragment(',"Min":');
const F_MAX = fragment(',"Max":');
const F_BUCKET_COUNTS = fragment(',"BucketCounts":[');
const F_EXPLICIT_BOUNDS = fragment('],"ExplicitBounds":[');
const F_SCALE = fragment(',"Scale":');
const F_ZERO_COUNT = fragment(',"ZeroCount":"');
const F_ZERO_THRESHOLD = fragment('","ZeroThreshold":');
const F_POSITIVE_OFFSET = fragment(',"PositiveOffset":');
const F_POSITIVE_COUNTS = fragment(',"PositiveBucketCounts":[');
const F_NEGATIVE_OFFSET = fragment('],"NegativeOffset":');
const F_NEGATIVE_COUNTS = fragment(',"NegativeBucketCounts":[');
const F_QUANTILES = fragment(',"ValueAtQuantiles.Quantile":[');
const F_QUANTILE_VALUES = fragment('],"ValueAtQuantiles.Value":[');
const F_CLOSE_FLAGS = fragment('],"Flags":');

/** Attributes, StartTimeUnix and TimeUnix of the point, from ',"Attributes":'. */
function headColumns(c: WireCursor, w: JsonBytes, startHi: number, startLo: number, timeHi: number, timeLo: number): void {
  w.raw(F_ATTRIBUTES);
  writeAttributes(c, w, pointAttrs, false);
  w.raw(F_START_TIME);
  w.nanos(startHi, startLo);
  w.raw(F_TIME);
  w.nanos(timeHi, timeLo);
  w.raw(F_TIME_END);
}

/** headColumns with Count and Sum (histogram, exponential histogram and summary points). */
function headCountSumColumns(c: WireCursor, w: JsonBytes): void {
  headColumns(c, w, pt.startHi, pt.startLo, pt.timeHi, pt.timeLo);
  w.raw(F_COUNT);
  w.u64(pt.countHi, pt.countLo);
  w.raw(F_SUM);
  w.float(pt.sum);
}

/** The columns the two histogram tables end with. */
function histogramTail(w: JsonBytes): void {
  exemplarColumns(w);
  w.raw(F_FLAGS);
  w.uint(pt.flags);
  w.raw(F_MIN);
  w.float(pt.min);
  w.raw(F_MAX);
  w.float(pt.max);
}

/**
 * Gauge and sum points are most metric rows, so this one keeps its fields in locals and one
 * switch instead of going through pointField (a call and an object store per field; NumberDataPoint
 * also has no count/sum, its fields 4 and 6 are the value).
 */
function numberPoint(c: WireCursor, start: number, end: number, w: JsonBytes): void {
  let startHi = 0;
  let startLo = 0;
  let timeHi = 0;
  let timeLo = 0;
  let kind = V_NONE;
  let dbl = 0;
  let intHi = 0;
  let intLo = 0;
  let flags = 0;
  pointAttrs.n = 0;
  exCount = 0;
  c.pos = start;
  while (c.pos < end) {
    const tag = c.tag(end);
    switch (tag) {
      case 0x11:
        startLo = c.fixed64(end);
        startHi = c.hi;
        break;
      case 0x19:
        timeLo = c.fixed64(end);
        timeHi = c.hi;
        break;
      case 0x21:
        dbl = c.double(end);
        kind = V_DOUBLE;
        break;
      case 0x2a: {
        const e = c.delimited(end);
        exemplar(c, c.pos, e);
        c.pos = e;
        break;
      }
      case 0x31:
        intLo = c.fixed64(end);
        intHi = c.hi;
        kind = V_INT;
        break;
      case 0x3a:
        pointAttrs.pushField(c, end);
        break;
      case 0x40:
        flags = c.varint(end);
        break;
      default:
        skipField(c, tag, end, NUMBER_POINT, 0);
    }
  }
  headColumns(c, w, startHi, startLo, timeHi, timeLo);
  w.raw(F_VALUE);
  pointValue(w, kind, dbl, intHi, intLo);
  w.raw(F_FLAGS);
  w.uint(flags);
  exemplarColumns(w);
}

/** Appends a HistogramDataPoint's repeated fixed 64-bit values (one, or a packed run) to a JSON array body: doubles as numbers, fixed64 as decimal strings. */
function fixed64Values(c: WireCursor, tag: number, end: number, list: JsonBytes, field: string, asDouble: boolean): void {
  if ((tag & 7) !== 2) {
    fixed64Text(c, end, list, asDouble);
    return;
  }
  const len = c.length(end);
  if (len % 8 !== 0) throw wireError(`${HISTOGRAM_POINT.name}.${field}: packed run of ${len} bytes is not a multiple of 8`, c.pos);
  const runEnd = c.pos + len;
  while (c.pos < runEnd) fixed64Text(c, runEnd, list, asDouble);
}

function fixed64Text(c: WireCursor, end: number, list: JsonBytes, asDouble: boolean): void {
  if (list.pos !== 0) list.byte(0x2c);
  if (asDouble) {
    list.float(c.double(end));
    return;
  }
  const lo = c.fixed64(end);
  list.byte(0x22);
  list.u64(c.hi, lo);
  list.byte(0x22);
}

/** Appends repeated uint64 varints (one, or a packed run) to a JSON array body as decimal strings. */
function uint64s(c: WireCursor, tag: number, end: number, list: JsonBytes): void {
  if ((tag & 7) === 0) {
    uint64(c, end, list);
    return;
  }
  const runEnd = c.delimited(end);
  while (c.pos < runEnd) uint64(c, runEnd, list);
}

function uint64(c: WireCursor, end: number, list: JsonBytes): void {
  const lo = c.varint(end);
  if (list.pos !== 0) list.byte(0x2c);
  list.byte(0x22);
  list.u64(c.hi, lo);
  list.byte(0x22);
}

// Array bodies of the point being decoded.
const listA = new JsonBytes(1 << 12);
const listB = new JsonBytes(1 << 12);

function histogramPoint(c: WireCursor, start: number, end: number, w: JsonBytes): void {
  const bucketCounts = listA;
  const bounds = listB;
  bucketCounts.pos = bounds.pos = 0;
  beginPoint(c, start);
  while (c.pos < end) {
    const tag = c.tag(end);
    if (tag === 0x31 || tag === 0x32) fixed64Values(c, tag, end, bucketCounts, 'bucketCounts', false);
    else if (tag === 0x39 || tag === 0x3a) fixed64Values(c, tag, end, bounds, 'explicitBounds', true);
    else pointField(c, tag, end, HISTOGRAM_LAYOUT);
  }
  headCountSumColumns(c, w);
  w.raw(F_BUCKET_COUNTS);
  w.copy(bucketCounts.buf, 0, bucketCounts.pos);
  w.raw(F_EXPLICIT_BOUNDS);
  w.copy(bounds.buf, 0, bounds.pos);
  w.raw(F_CLOSE);
  histogramTail(w);
}

/** Feeds a Buckets message into `list` (a Buckets message seen twice is merged); returns the offset (last wins). */
function buckets(c: WireCursor, start: number, end: number, offset: number, list: JsonBytes): number {
  c.pos = start;
  while (c.pos < end) {
    const tag = c.tag(end);
    if (tag === 0x08) offset = sint32(c.varint(end));
    else if (tag === 0x10 || tag === 0x12) uint64s(c, tag, end, list);
    else skipField(c, tag, end, BUCKETS, 0);
  }
  return offset;
}

function sint32(v: number): number {
  return ((v >>> 1) ^ -(v & 1)) | 0;
}

function exponentialHistogramPoint(c: WireCursor, start: number, end: number, w: JsonBytes): void {
  let zeroHi = 0;
  let zeroLo = 0;
  let zeroThreshold = 0;
  let scale = 0;
  let posOffset = 0;
  let negOffset = 0;
  const posCounts = listA;
  const negCounts = listB;
  posCounts.pos = negCounts.pos = 0;
  beginPoint(c, start);
  while (c.pos < end) {
    const tag = c.tag(end);
    switch (tag) {
      case 0x30:
        scale = sint32(c.varint(end));
        break;
      case 0x39:
        zeroLo = c.fixed64(end);
        zeroHi = c.hi;
        break;
      case 0x42: {
        const e = c.delimited(end);
        posOffset = buckets(c, c.pos, e, posOffset, posCounts);
        c.pos = e;
        break;
      }
      case 0x4a: {
        const e = c.delimited(end);
        negOffset = buckets(c, c.pos, e, negOffset, negCounts);
        c.pos = e;
        break;
      }
      case 0x71:
        zeroThreshold = c.double(end);
        break;
      default:
        pointField(c, tag, end, EXP_HISTOGRAM_LAYOUT);
    }
  }
  headCountSumColumns(c, w);
  w.raw(F_SCALE);
  w.int(scale);
  w.raw(F_ZERO_COUNT);
  w.u64(zeroHi, zeroLo);
  w.raw(F_ZERO_THRESHOLD);
  w.float(zeroThreshold);
  w.raw(F_POSITIVE_OFFSET);
  w.int(posOffset);
  w.raw(F_POSITIVE_COUNTS);
  w.copy(posCounts.buf, 0, posCounts.pos);
  w.raw(F_NEGATIVE_OFFSET);
  w.int(negOffset);
  w.raw(F_NEGATIVE_COUNTS);
  w.copy(negCounts.buf, 0, negCounts.pos);
  w.raw(F_CLOSE);
  histogramTail(w);
}

function summaryPoint(c: WireCursor, start: number, end: number, w: JsonBytes): void {
  const quantiles = listA;
  const values = listB;
  quantiles.pos = values.pos = 0;
  beginPoint(c, start);
  while (c.pos < end) {
    const tag = c.tag(end);
    if (tag === 0x32) {
      const qEnd = c.delimited(end);
      let q = 0;
      let v = 0;
      while (c.pos < qEnd) {
        const t = c.tag(qEnd);
        if (t === 0x09) q = c.double(qEnd);
        else if (t === 0x11) v = c.double(qEnd);
        else skipField(c, t, qEnd, VALUE_AT_QUANTILE, 0);
      }
      if (quantiles.pos !== 0) {
        quantiles.byte(0x2c);
        values.byte(0x2c);
      }
      quantiles.float(q);
      values.float(v);
    } else {
      pointField(c, tag, end, SUMMARY_LAYOUT);
    }
  }
  headCountSumColumns(c, w);
  w.raw(F_QUANTILES);
  w.copy(quantiles.buf, 0, quantiles.pos);
  w.raw(F_QUANTILE_VALUES);
  w.copy(values.buf, 0, values.pos);
  w.raw(F_CLOSE_FLAGS);
  w.uint(pt.flags);
}

/** Decodes an ExportMetricsServiceRequest and appends one line per data point to its type's table; throws OtlpDecodeError on bad bytes. */
export function appendMetricWire(bytes: Uint8Array, tenant: TenantId, sink: TextRowSink): number {
  head = fragment('{"TenantId":' + jsonQuote(tenant));
  const out: Outputs = {
    gauge: sink.table(METRIC_TABLES.gauge),
    sum: sink.table(METRIC_TABLES.sum),
    histogram: sink.table(METRIC_TABLES.histogram),
    exponentialHistogram: sink.table(METRIC_TABLES.exponentialHistogram),
    summary: sink.table(METRIC_TABLES.summary),
  };
  return walkExport(new WireCursor(bytes), METRIC_ROWS, '', out);
}
