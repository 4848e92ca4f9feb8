/** ExportMetricsServiceRequest bytes -> JSONEachRow lines of the five otel_metrics_* tables (same rows as ../metrics.ts). */
import { wireError, type MessageSpec } from '../../../otlp/index.ts';
import type { TenantId } from '../../../telemetry/signals.ts';
import { METRIC_TABLES } from '../../schema.ts';
import { Ranges, attributesJson } from './any-value.ts';
import { checkMessage, skipField } from './check.ts';
import { WireCursor } from './cursor.ts';
import { resourceColumns, skipKnown, walkExport, type SignalRows } from './resource-scope.ts';
import { floatJson, i64Number, nanosText, u64Text } from './numbers.ts';
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
import { hexAt, jsonQuote } from './text.ts';
import type { LineWriter, TextRowSink } from './text-sink.ts';

/** Line lists of the five tables for the record being decoded. */
interface Outputs {
  gauge: LineWriter;
  sum: LineWriter;
  histogram: LineWriter;
  exponentialHistogram: LineWriter;
  summary: LineWriter;
}

const pointAttrs = new Ranges();
const subAttrs = new Ranges();

const METRIC_ROWS: SignalRows<Outputs> = {
  request: EXPORT_METRICS,
  resourceX: RESOURCE_METRICS,
  scopeX: SCOPE_METRICS,
  keepsSchemaUrls: true,
  resourceText: (c, head, attrs, schemaJson) => head + resourceColumns(c, attrs) + ',"ResourceSchemaUrl":' + schemaJson,
  scopeText: (c, resource, scope, schemaJson) =>
    resource +
    ',"ScopeName":' +
    scope.nameJson +
    ',"ScopeVersion":' +
    scope.versionJson +
    ',"ScopeAttributes":' +
    attributesJson(c, scope.attrs, false) +
    ',"ScopeDroppedAttrCount":' +
    scope.dropped +
    ',"ScopeSchemaUrl":' +
    schemaJson,
  item: (c, start, end, _head, scopePrefix, out) => metric(c, start, end, scopePrefix, out),
};

const DATA_SPECS: (MessageSpec | undefined)[] = [];
DATA_SPECS[5] = GAUGE;
DATA_SPECS[7] = SUM;
DATA_SPECS[9] = HISTOGRAM;
DATA_SPECS[10] = EXP_HISTOGRAM;
DATA_SPECS[11] = SUMMARY;

// Occurrences of Metric.data fields in one metric: field number, start, end.
const dataOcc: number[] = [];

function metric(c: WireCursor, start: number, end: number, scopePrefix: string, out: Outputs): number {
  let nameJson = '""';
  let descriptionJson = '""';
  let unitJson = '""';
  let nOcc = 0;
  c.pos = start;
  while (c.pos < end) {
    const tag = c.tag(end);
    const no = tag >>> 3;
    if ((tag & 7) === 2 && no <= 3) {
      const text = c.jsonString(end);
      if (no === 1) nameJson = text;
      else if (no === 2) descriptionJson = text;
      else unitJson = text;
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
  if (nOcc === 0) return 0;
  // The data oneof: the last member set wins; its occurrences since another member was set merge.
  const winner = dataOcc[nOcc - 3];
  let first = nOcc - 3;
  while (first >= 3 && dataOcc[first - 3] === winner) first -= 3;
  // Occurrences a later member replaced are decoded (and so validated) by protobufjs too.
  for (let i = 0; i < first; i += 3) checkMessage(c, DATA_SPECS[dataOcc[i]]!, dataOcc[i + 1], dataOcc[i + 2], 0);
  const prefix = scopePrefix + ',"MetricName":' + nameJson + ',"MetricDescription":' + descriptionJson + ',"MetricUnit":' + unitJson;
  return dataPoints(c, winner, first, nOcc, prefix, out);
}

/** The rows of the winning data member, whose merged occurrences are dataOcc[from, to). */
function dataPoints(c: WireCursor, member: number, from: number, to: number, prefix: string, out: Outputs): number {
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
  const list = member === 5 ? out.gauge : member === 7 ? out.sum : member === 9 ? out.histogram : member === 10 ? out.exponentialHistogram : out.summary;
  const suffix =
    member === 7
      ? ',"AggregationTemporality":' + temporality + ',"IsMonotonic":' + monotonic + '}'
      : member === 9 || member === 10
        ? ',"AggregationTemporality":' + temporality + '}'
        : '}';
  let rows = 0;
  for (let i = from; i < to; i += 3) {
    const end = dataOcc[i + 2];
    c.pos = dataOcc[i + 1];
    while (c.pos < end) {
      const tag = c.tag(end);
      if (tag === 0x0a) {
        const e = c.delimited(end);
        const s = c.pos;
        let row: string;
        if (member === 5 || member === 7) row = numberPoint(c, s, e);
        else if (member === 9) row = histogramPoint(c, s, e);
        else if (member === 10) row = exponentialHistogramPoint(c, s, e);
        else row = summaryPoint(c, s, e);
        list.push(prefix + row + suffix);
        c.pos = e;
        rows++;
      } else {
        skipKnown(c, tag, end);
      }
    }
  }
  return rows;
}

// Exemplars of the point being decoded, rendered as met.
let exCount = 0;
let exAttrs = '';
let exTimes = '';
let exValues = '';
let exSpans = '';
let exTraces = '';

function exemplarColumns(): string {
  if (exCount === 0) {
    return ',"Exemplars.FilteredAttributes":[],"Exemplars.TimeUnix":[],"Exemplars.Value":[],"Exemplars.SpanId":[],"Exemplars.TraceId":[]';
  }
  return (
    ',"Exemplars.FilteredAttributes":[' +
    exAttrs +
    '],"Exemplars.TimeUnix":[' +
    exTimes +
    '],"Exemplars.Value":[' +
    exValues +
    '],"Exemplars.SpanId":[' +
    exSpans +
    '],"Exemplars.TraceId":[' +
    exTraces +
    ']'
  );
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
  const attrs = attributesJson(c, subAttrs, false);
  const time = '"' + nanosText(timeHi, timeLo) + '"';
  const value = pointValue(kind, dbl, intHi, intLo);
  const spanJson = '"' + hexAt(c.b, spanS, spanE) + '"';
  const traceJson = '"' + hexAt(c.b, traceS, traceE) + '"';
  if (exCount++ === 0) {
    exAttrs = attrs;
    exTimes = time;
    exValues = value;
    exSpans = spanJson;
    exTraces = traceJson;
  } else {
    exAttrs += ',' + attrs;
    exTimes += ',' + time;
    exValues += ',' + value;
    exSpans += ',' + spanJson;
    exTraces += ',' + traceJson;
  }
}

/** ../metrics.ts pointValue: the double, else the int as a (possibly rounded) number, else 0. */
function pointValue(kind: number, dbl: number, hi: number, lo: number): string {
  if (kind === V_DOUBLE) return floatJson(dbl);
  if (kind === V_INT) return String(i64Number(hi, lo));
  return '0';
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

/** Attributes, StartTimeUnix and TimeUnix of the point, as a ',"Attributes":...' fragment. */
function headColumns(c: WireCursor, startHi: number, startLo: number, timeHi: number, timeLo: number): string {
  return (
    ',"Attributes":' +
    attributesJson(c, pointAttrs, false) +
    ',"StartTimeUnix":"' +
    nanosText(startHi, startLo) +
    '","TimeUnix":"' +
    nanosText(timeHi, timeLo) +
    '"'
  );
}

/** headColumns with Count and Sum (histogram, exponential histogram and summary points). */
function headCountSumColumns(c: WireCursor): string {
  return headColumns(c, pt.startHi, pt.startLo, pt.timeHi, pt.timeLo) + ',"Count":"' + u64Text(pt.countHi, pt.countLo) + '","Sum":' + floatJson(pt.sum);
}

/** The columns the two histogram tables end with. */
function histogramTail(): string {
  return exemplarColumns() + ',"Flags":' + pt.flags + ',"Min":' + floatJson(pt.min) + ',"Max":' + floatJson(pt.max);
}

/**
 * Gauge and sum points are most metric rows, so this one keeps its fields in locals and one
 * switch instead of going through pointField (a call and an object store per field; NumberDataPoint
 * also has no count/sum, its fields 4 and 6 are the value).
 */
function numberPoint(c: WireCursor, start: number, end: number): string {
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
  return headColumns(c, startHi, startLo, timeHi, timeLo) + ',"Value":' + pointValue(kind, dbl, intHi, intLo) + ',"Flags":' + flags + exemplarColumns();
}

/** Appends a HistogramDataPoint's repeated fixed 64-bit values (one, or a packed run) to a JSON array body: doubles as numbers, fixed64 as decimal strings. */
function fixed64Values(c: WireCursor, tag: number, end: number, list: string, field: string, asDouble: boolean): string {
  let runEnd = end;
  if ((tag & 7) === 2) {
    const len = c.length(end);
    if (len % 8 !== 0) throw wireError(`${HISTOGRAM_POINT.name}.${field}: packed run of ${len} bytes is not a multiple of 8`, c.pos);
    runEnd = c.pos + len;
  } else {
    return (list === '' ? '' : list + ',') + fixed64Text(c, end, asDouble);
  }
  while (c.pos < runEnd) list += (list === '' ? '' : ',') + fixed64Text(c, runEnd, asDouble);
  return list;
}

function fixed64Text(c: WireCursor, end: number, asDouble: boolean): string {
  if (asDouble) return floatJson(c.double(end));
  const lo = c.fixed64(end);
  return '"' + u64Text(c.hi, lo) + '"';
}

/** Appends repeated uint64 varints (one, or a packed run) to a JSON array body as decimal strings. */
function uint64s(c: WireCursor, tag: number, end: number, list: string): string {
  if ((tag & 7) === 0) {
    const lo = c.varint(end);
    return (list === '' ? '"' : list + ',"') + u64Text(c.hi, lo) + '"';
  }
  const len = c.length(end);
  const runEnd = c.pos + len;
  while (c.pos < runEnd) {
    const lo = c.varint(runEnd);
    list += (list === '' ? '"' : ',"') + u64Text(c.hi, lo) + '"';
  }
  return list;
}

function histogramPoint(c: WireCursor, start: number, end: number): string {
  let buckets = '';
  let bounds = '';
  beginPoint(c, start);
  while (c.pos < end) {
    const tag = c.tag(end);
    if (tag === 0x31 || tag === 0x32) buckets = fixed64Values(c, tag, end, buckets, 'bucketCounts', false);
    else if (tag === 0x39 || tag === 0x3a) bounds = fixed64Values(c, tag, end, bounds, 'explicitBounds', true);
    else pointField(c, tag, end, HISTOGRAM_LAYOUT);
  }
  return headCountSumColumns(c) + ',"BucketCounts":[' + buckets + '],"ExplicitBounds":[' + bounds + ']' + histogramTail();
}

// Buckets of an exponential histogram point (a Buckets message seen twice is merged).
let bucketOffset = 0;
let bucketCounts = '';

function buckets(c: WireCursor, start: number, end: number): void {
  c.pos = start;
  while (c.pos < end) {
    const tag = c.tag(end);
    if (tag === 0x08) bucketOffset = sint32(c.varint(end));
    else if (tag === 0x10 || tag === 0x12) bucketCounts = uint64s(c, tag, end, bucketCounts);
    else skipField(c, tag, end, BUCKETS, 0);
  }
}

function sint32(v: number): number {
  return ((v >>> 1) ^ -(v & 1)) | 0;
}

function exponentialHistogramPoint(c: WireCursor, start: number, end: number): string {
  let zeroHi = 0;
  let zeroLo = 0;
  let zeroThreshold = 0;
  let scale = 0;
  let posOffset = 0;
  let posCounts = '';
  let negOffset = 0;
  let negCounts = '';
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
      case 0x42:
      case 0x4a: {
        const e = c.delimited(end);
        const positive = tag === 0x42;
        bucketOffset = positive ? posOffset : negOffset;
        bucketCounts = positive ? posCounts : negCounts;
        buckets(c, c.pos, e);
        if (positive) {
          posOffset = bucketOffset;
          posCounts = bucketCounts;
        } else {
          negOffset = bucketOffset;
          negCounts = bucketCounts;
        }
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
  return (
    headCountSumColumns(c) +
    ',"Scale":' +
    scale +
    ',"ZeroCount":"' +
    u64Text(zeroHi, zeroLo) +
    '","ZeroThreshold":' +
    floatJson(zeroThreshold) +
    ',"PositiveOffset":' +
    posOffset +
    ',"PositiveBucketCounts":[' +
    posCounts +
    '],"NegativeOffset":' +
    negOffset +
    ',"NegativeBucketCounts":[' +
    negCounts +
    ']' +
    histogramTail()
  );
}

function summaryPoint(c: WireCursor, start: number, end: number): string {
  let quantiles = '';
  let values = '';
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
      quantiles += (quantiles === '' ? '' : ',') + floatJson(q);
      values += (values === '' ? '' : ',') + floatJson(v);
    } else {
      pointField(c, tag, end, SUMMARY_LAYOUT);
    }
  }
  return headCountSumColumns(c) + ',"ValueAtQuantiles.Quantile":[' + quantiles + '],"ValueAtQuantiles.Value":[' + values + '],"Flags":' + pt.flags;
}

/** Decodes an ExportMetricsServiceRequest and appends one line per data point to its type's table; throws OtlpDecodeError on bad bytes. */
export function appendMetricWire(bytes: Uint8Array, tenant: TenantId, sink: TextRowSink): number {
  const c = new WireCursor(bytes);
  const out: Outputs = {
    gauge: sink.lines(METRIC_TABLES.gauge),
    sum: sink.lines(METRIC_TABLES.sum),
    histogram: sink.lines(METRIC_TABLES.histogram),
    exponentialHistogram: sink.lines(METRIC_TABLES.exponentialHistogram),
    summary: sink.lines(METRIC_TABLES.summary),
  };
  return walkExport(c, METRIC_ROWS, '{"TenantId":' + jsonQuote(tenant), out);
}
