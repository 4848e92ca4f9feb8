/** ExportMetricsServiceRequest bytes -> JSONEachRow lines of the five otel_metrics_* tables (same rows as ../metrics.ts). */
import { wireError } from '../../../otlp/index.ts';
import type { TenantId } from '../../../telemetry/signals.ts';
import { METRIC_TABLES } from '../../schema.ts';
import { Ranges, attributesJson } from './any-value.ts';
import { checkMessage, skipField } from './check.ts';
import { WireCursor } from './cursor.ts';
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
import { hexAt, jsonQuote, jsonStringAt } from './text.ts';
import type { TextRowSink } from './text-sink.ts';
import { ScopeFields, resourceColumns, skipKnown, walkResource, walkScope } from './traces.ts';
import type { MessageSpec } from '../../../otlp/index.ts';

/** Line lists of the five tables for the record being decoded. */
interface Outputs {
  gauge: string[];
  sum: string[];
  histogram: string[];
  exponentialHistogram: string[];
  summary: string[];
}

const resourceAttrs = new Ranges();
const scopeAttrs = new Ranges();
const pointAttrs = new Ranges();
const subAttrs = new Ranges();
const scope = new ScopeFields();

function resourceMetrics(c: WireCursor, start: number, end: number, head: string, out: Outputs): number {
  resourceAttrs.n = 0;
  let schemaJson = '""';
  c.pos = start;
  while (c.pos < end) {
    const tag = c.tag(end);
    if (tag === 0x0a) {
      const len = c.length(end);
      const s = c.pos;
      walkResource(c, s, s + len, resourceAttrs);
      c.pos = s + len;
    } else if (tag === 0x12) {
      c.pos = c.length(end) + c.pos; // length() moves pos past the prefix first
    } else if (tag === 0x1a) {
      const len = c.length(end);
      schemaJson = jsonStringAt(c.b, c.pos, c.pos + len);
      c.pos += len;
    } else {
      skipField(c, tag, end, RESOURCE_METRICS, 0);
    }
  }
  const resource = head + resourceColumns(c, resourceAttrs) + ',"ResourceSchemaUrl":' + schemaJson;
  let rows = 0;
  c.pos = start;
  while (c.pos < end) {
    const tag = c.tag(end);
    if (tag === 0x12) {
      const len = c.length(end);
      const s = c.pos;
      rows += scopeMetrics(c, s, s + len, resource, out);
      c.pos = s + len;
    } else {
      skipKnown(c, tag, end);
    }
  }
  return rows;
}

function scopeMetrics(c: WireCursor, start: number, end: number, resource: string, out: Outputs): number {
  scope.reset();
  scopeAttrs.n = 0;
  let schemaJson = '""';
  c.pos = start;
  while (c.pos < end) {
    const tag = c.tag(end);
    if (tag === 0x0a) {
      const len = c.length(end);
      const s = c.pos;
      walkScope(c, s, s + len, scope, scopeAttrs);
      c.pos = s + len;
    } else if (tag === 0x12) {
      c.pos = c.length(end) + c.pos; // length() moves pos past the prefix first
    } else if (tag === 0x1a) {
      const len = c.length(end);
      schemaJson = jsonStringAt(c.b, c.pos, c.pos + len);
      c.pos += len;
    } else {
      skipField(c, tag, end, SCOPE_METRICS, 0);
    }
  }
  const prefix =
    resource +
    ',"ScopeName":' +
    scope.nameJson +
    ',"ScopeVersion":' +
    scope.versionJson +
    ',"ScopeAttributes":' +
    attributesJson(c, scopeAttrs, false) +
    ',"ScopeDroppedAttrCount":' +
    scope.dropped +
    ',"ScopeSchemaUrl":' +
    schemaJson;
  let rows = 0;
  c.pos = start;
  while (c.pos < end) {
    const tag = c.tag(end);
    if (tag === 0x12) {
      const len = c.length(end);
      const s = c.pos;
      rows += metric(c, s, s + len, prefix, out);
      c.pos = s + len;
    } else {
      skipKnown(c, tag, end);
    }
  }
  return rows;
}

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
      const len = c.length(end);
      const text = jsonStringAt(c.b, c.pos, c.pos + len);
      c.pos += len;
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
  const occ = dataOcc.slice(first, nOcc);
  const prefix = scopePrefix + ',"MetricName":' + nameJson + ',"MetricDescription":' + descriptionJson + ',"MetricUnit":' + unitJson;
  return dataPoints(c, winner, occ, prefix, out);
}

function dataPoints(c: WireCursor, member: number, occ: number[], prefix: string, out: Outputs): number {
  const spec = DATA_SPECS[member]!;
  // First the data message's own fields (last value wins across merged occurrences).
  let temporality = 0;
  let monotonic = false;
  for (let i = 0; i < occ.length; i += 3) {
    const end = occ[i + 2];
    c.pos = occ[i + 1];
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
  for (let i = 0; i < occ.length; i += 3) {
    const end = occ[i + 2];
    c.pos = occ[i + 1];
    while (c.pos < end) {
      const tag = c.tag(end);
      if (tag === 0x0a) {
        const len = c.length(end);
        const s = c.pos;
        let row: string;
        if (member === 5 || member === 7) row = numberPoint(c, s, s + len);
        else if (member === 9) row = histogramPoint(c, s, s + len);
        else if (member === 10) row = exponentialHistogramPoint(c, s, s + len);
        else row = summaryPoint(c, s, s + len);
        list.push(prefix + row + suffix);
        c.pos = s + len;
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
      case 0x22: {
        const len = c.length(end);
        spanS = c.pos;
        spanE = c.pos += len;
        break;
      }
      case 0x2a: {
        const len = c.length(end);
        traceS = c.pos;
        traceE = c.pos += len;
        break;
      }
      case 0x31:
        intLo = c.fixed64(end);
        intHi = c.hi;
        kind = V_INT;
        break;
      case 0x3a: {
        const len = c.length(end);
        subAttrs.push(c.pos, c.pos + len);
        c.pos += len;
        break;
      }
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

/** Attributes, StartTimeUnix and TimeUnix of a point, as a ',"Attributes":...' fragment. */
function pointCommon(c: WireCursor, startHi: number, startLo: number, timeHi: number, timeLo: number): string {
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
        const len = c.length(end);
        const s = c.pos;
        exemplar(c, s, s + len);
        c.pos = s + len;
        break;
      }
      case 0x31:
        intLo = c.fixed64(end);
        intHi = c.hi;
        kind = V_INT;
        break;
      case 0x3a: {
        const len = c.length(end);
        pointAttrs.push(c.pos, c.pos + len);
        c.pos += len;
        break;
      }
      case 0x40:
        flags = c.varint(end);
        break;
      default:
        skipField(c, tag, end, NUMBER_POINT, 0);
    }
  }
  return pointCommon(c, startHi, startLo, timeHi, timeLo) + ',"Value":' + pointValue(kind, dbl, intHi, intLo) + ',"Flags":' + flags + exemplarColumns();
}

/** Appends repeated fixed64 values (one, or a packed run) to a JSON array body as decimal strings. */
function fixed64s(c: WireCursor, tag: number, end: number, list: string, spec: MessageSpec, field: string): string {
  if ((tag & 7) === 1) {
    const lo = c.fixed64(end);
    return (list === '' ? '"' : list + ',"') + u64Text(c.hi, lo) + '"';
  }
  const len = c.length(end);
  const runEnd = c.pos + len;
  if (len % 8 !== 0) throw wireError(`${spec.name}.${field}: packed run of ${len} bytes is not a multiple of 8`, c.pos);
  while (c.pos < runEnd) {
    const lo = c.fixed64(runEnd);
    list += (list === '' ? '"' : ',"') + u64Text(c.hi, lo) + '"';
  }
  return list;
}

/** Appends repeated doubles (one, or a packed run) to a JSON array body. */
function doubles(c: WireCursor, tag: number, end: number, list: string, spec: MessageSpec, field: string): string {
  if ((tag & 7) === 1) return (list === '' ? '' : list + ',') + floatJson(c.double(end));
  const len = c.length(end);
  const runEnd = c.pos + len;
  if (len % 8 !== 0) throw wireError(`${spec.name}.${field}: packed run of ${len} bytes is not a multiple of 8`, c.pos);
  while (c.pos < runEnd) list += (list === '' ? '' : ',') + floatJson(c.double(runEnd));
  return list;
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
  let startHi = 0;
  let startLo = 0;
  let timeHi = 0;
  let timeLo = 0;
  let countHi = 0;
  let countLo = 0;
  let sum = 0;
  let min = 0;
  let max = 0;
  let flags = 0;
  let buckets = '';
  let bounds = '';
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
        countLo = c.fixed64(end);
        countHi = c.hi;
        break;
      case 0x29:
        sum = c.double(end);
        break;
      case 0x31:
      case 0x32:
        buckets = fixed64s(c, tag, end, buckets, HISTOGRAM_POINT, 'bucketCounts');
        break;
      case 0x39:
      case 0x3a:
        bounds = doubles(c, tag, end, bounds, HISTOGRAM_POINT, 'explicitBounds');
        break;
      case 0x42: {
        const len = c.length(end);
        const s = c.pos;
        exemplar(c, s, s + len);
        c.pos = s + len;
        break;
      }
      case 0x4a: {
        const len = c.length(end);
        pointAttrs.push(c.pos, c.pos + len);
        c.pos += len;
        break;
      }
      case 0x50:
        flags = c.varint(end);
        break;
      case 0x59:
        min = c.double(end);
        break;
      case 0x61:
        max = c.double(end);
        break;
      default:
        skipField(c, tag, end, HISTOGRAM_POINT, 0);
    }
  }
  return (
    pointCommon(c, startHi, startLo, timeHi, timeLo) +
    ',"Count":"' +
    u64Text(countHi, countLo) +
    '","Sum":' +
    floatJson(sum) +
    ',"BucketCounts":[' +
    buckets +
    '],"ExplicitBounds":[' +
    bounds +
    ']' +
    exemplarColumns() +
    ',"Flags":' +
    flags +
    ',"Min":' +
    floatJson(min) +
    ',"Max":' +
    floatJson(max)
  );
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
  let startHi = 0;
  let startLo = 0;
  let timeHi = 0;
  let timeLo = 0;
  let countHi = 0;
  let countLo = 0;
  let zeroHi = 0;
  let zeroLo = 0;
  let sum = 0;
  let min = 0;
  let max = 0;
  let zeroThreshold = 0;
  let scale = 0;
  let flags = 0;
  let posOffset = 0;
  let posCounts = '';
  let negOffset = 0;
  let negCounts = '';
  pointAttrs.n = 0;
  exCount = 0;
  c.pos = start;
  while (c.pos < end) {
    const tag = c.tag(end);
    switch (tag) {
      case 0x0a: {
        const len = c.length(end);
        pointAttrs.push(c.pos, c.pos + len);
        c.pos += len;
        break;
      }
      case 0x11:
        startLo = c.fixed64(end);
        startHi = c.hi;
        break;
      case 0x19:
        timeLo = c.fixed64(end);
        timeHi = c.hi;
        break;
      case 0x21:
        countLo = c.fixed64(end);
        countHi = c.hi;
        break;
      case 0x29:
        sum = c.double(end);
        break;
      case 0x30:
        scale = sint32(c.varint(end));
        break;
      case 0x39:
        zeroLo = c.fixed64(end);
        zeroHi = c.hi;
        break;
      case 0x42:
      case 0x4a: {
        const len = c.length(end);
        const s = c.pos;
        const positive = tag === 0x42;
        bucketOffset = positive ? posOffset : negOffset;
        bucketCounts = positive ? posCounts : negCounts;
        buckets(c, s, s + len);
        if (positive) {
          posOffset = bucketOffset;
          posCounts = bucketCounts;
        } else {
          negOffset = bucketOffset;
          negCounts = bucketCounts;
        }
        c.pos = s + len;
        break;
      }
      case 0x50:
        flags = c.varint(end);
        break;
      case 0x5a: {
        const len = c.length(end);
        const s = c.pos;
        exemplar(c, s, s + len);
        c.pos = s + len;
        break;
      }
      case 0x61:
        min = c.double(end);
        break;
      case 0x69:
        max = c.double(end);
        break;
      case 0x71:
        zeroThreshold = c.double(end);
        break;
      default:
        skipField(c, tag, end, EXP_HISTOGRAM_POINT, 0);
    }
  }
  return (
    pointCommon(c, startHi, startLo, timeHi, timeLo) +
    ',"Count":"' +
    u64Text(countHi, countLo) +
    '","Sum":' +
    floatJson(sum) +
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
    exemplarColumns() +
    ',"Flags":' +
    flags +
    ',"Min":' +
    floatJson(min) +
    ',"Max":' +
    floatJson(max)
  );
}

function summaryPoint(c: WireCursor, start: number, end: number): string {
  let startHi = 0;
  let startLo = 0;
  let timeHi = 0;
  let timeLo = 0;
  let countHi = 0;
  let countLo = 0;
  let sum = 0;
  let flags = 0;
  let quantiles = '';
  let values = '';
  pointAttrs.n = 0;
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
        countLo = c.fixed64(end);
        countHi = c.hi;
        break;
      case 0x29:
        sum = c.double(end);
        break;
      case 0x32: {
        const len = c.length(end);
        const s = c.pos;
        const qEnd = s + len;
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
        break;
      }
      case 0x3a: {
        const len = c.length(end);
        pointAttrs.push(c.pos, c.pos + len);
        c.pos += len;
        break;
      }
      case 0x40:
        flags = c.varint(end);
        break;
      default:
        skipField(c, tag, end, SUMMARY_POINT, 0);
    }
  }
  return (
    pointCommon(c, startHi, startLo, timeHi, timeLo) +
    ',"Count":"' +
    u64Text(countHi, countLo) +
    '","Sum":' +
    floatJson(sum) +
    ',"ValueAtQuantiles.Quantile":[' +
    quantiles +
    '],"ValueAtQuantiles.Value":[' +
    values +
    '],"Flags":' +
    flags
  );
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
  const head = '{"TenantId":' + jsonQuote(tenant);
  const end = c.b.length;
  let rows = 0;
  while (c.pos < end) {
    const tag = c.tag(end);
    if (tag === 0x0a) {
      const len = c.length(end);
      const s = c.pos;
      rows += resourceMetrics(c, s, s + len, head, out);
      c.pos = s + len;
    } else {
      skipField(c, tag, end, EXPORT_METRICS, 0);
    }
  }
  return rows;
}
