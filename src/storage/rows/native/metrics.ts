/** ExportMetricsServiceRequest bytes -> Native columns of the five otel_metrics_* tables (same rows as ../wire/metrics.ts). */
import { wireError, type MessageSpec } from '../../../otlp/index.ts';
import type { TenantId } from '../../../telemetry/signals.ts';
import { METRIC_TABLES } from '../../schema.ts';
import { Ranges } from '../wire/any-value-bytes.ts';
import { checkMessage, skipField } from '../wire/check.ts';
import { WireCursor } from '../wire/cursor.ts';
import { i64Number } from '../wire/numbers.ts';
import { skipKnown, walkExport, type ScopeFields, type SignalRows } from '../wire/resource-scope.ts';
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
} from '../wire/specs.ts';
import { checkUtf8 } from '../wire/text.ts';
import { ConstantMap, ConstantString, bytesOfJson, stringValueOfJson, writeMap } from './attributes.ts';
import { storedFloat, type NativeBytes } from './bytes.ts';
import { NativeTable, arrayOf, fixed, lcMap, lowCardinality, map } from './columns.ts';
import type { NativeRowSink } from './sink.ts';

const LC = 'LowCardinality(String)';
const MAP = 'Map(LowCardinality(String), String)';
const LC_MAP = 'Map(LowCardinality(String), LowCardinality(String))';

/** The columns every otel_metrics_* table starts with (schema.ts METRIC_COMMON). */
class MetricTable extends NativeTable {
  readonly tenantId = this.column('TenantId', LC, lowCardinality());
  readonly resourceAttributes = this.column('ResourceAttributes', LC_MAP, lcMap());
  readonly resourceSchemaUrl = this.column('ResourceSchemaUrl', 'String', fixed());
  readonly scopeName = this.column('ScopeName', LC, lowCardinality());
  readonly scopeVersion = this.column('ScopeVersion', LC, lowCardinality());
  readonly scopeAttributes = this.column('ScopeAttributes', MAP, map());
  readonly scopeDroppedAttrCount = this.column('ScopeDroppedAttrCount', 'UInt32', fixed());
  readonly scopeSchemaUrl = this.column('ScopeSchemaUrl', 'String', fixed());
  readonly serviceName = this.column('ServiceName', LC, lowCardinality());
  readonly metricName = this.column('MetricName', LC, lowCardinality());
  readonly metricDescription = this.column('MetricDescription', 'String', fixed());
  readonly metricUnit = this.column('MetricUnit', 'String', fixed());
  readonly attributes = this.column('Attributes', MAP, map());
  readonly startTimeUnix = this.column('StartTimeUnix', 'DateTime64(9)', fixed());
  readonly timeUnix = this.column('TimeUnix', 'DateTime64(9)', fixed());
  /** TenantId's id for the record being mapped, and the tenant it is the id of. */
  tenant = 0;
  tenantFor: string | null = null;

  /** The tenant's id goes with the dictionary. */
  override reset(): void {
    super.reset();
    this.tenantFor = null;
  }
}

/** The Exemplars Nested columns, declared where each table has them. */
function exemplarColumns(t: NativeTable) {
  return {
    filteredAttributes: t.column('Exemplars.FilteredAttributes', `Array(${MAP})`, arrayOf(map())),
    timeUnix: t.column('Exemplars.TimeUnix', 'Array(DateTime64(9))', arrayOf(fixed())),
    value: t.column('Exemplars.Value', 'Array(Float64)', arrayOf(fixed())),
    spanId: t.column('Exemplars.SpanId', 'Array(String)', arrayOf(fixed())),
    traceId: t.column('Exemplars.TraceId', 'Array(String)', arrayOf(fixed())),
  };
}
type Exemplars = ReturnType<typeof exemplarColumns>;

class GaugeTable extends MetricTable {
  readonly value = this.column('Value', 'Float64', fixed());
  readonly flags = this.column('Flags', 'UInt32', fixed());
  readonly exemplars = exemplarColumns(this);

  constructor(table: string = METRIC_TABLES.gauge) {
    super(table);
  }
}

class SumTable extends GaugeTable {
  readonly temporality = this.column('AggregationTemporality', 'Int32', fixed());
  readonly monotonic = this.column('IsMonotonic', 'Bool', fixed());

  constructor() {
    super(METRIC_TABLES.sum);
  }
}

class HistogramTable extends MetricTable {
  readonly count = this.column('Count', 'UInt64', fixed());
  readonly sum = this.column('Sum', 'Float64', fixed());
  readonly bucketCounts = this.column('BucketCounts', 'Array(UInt64)', arrayOf(fixed()));
  readonly explicitBounds = this.column('ExplicitBounds', 'Array(Float64)', arrayOf(fixed()));
  readonly exemplars = exemplarColumns(this);
  readonly flags = this.column('Flags', 'UInt32', fixed());
  readonly min = this.column('Min', 'Float64', fixed());
  readonly max = this.column('Max', 'Float64', fixed());
  readonly temporality = this.column('AggregationTemporality', 'Int32', fixed());

  constructor() {
    super(METRIC_TABLES.histogram);
  }
}

class ExponentialHistogramTable extends MetricTable {
  readonly count = this.column('Count', 'UInt64', fixed());
  readonly sum = this.column('Sum', 'Float64', fixed());
  readonly scale = this.column('Scale', 'Int32', fixed());
  readonly zeroCount = this.column('ZeroCount', 'UInt64', fixed());
  readonly zeroThreshold = this.column('ZeroThreshold', 'Float64', fixed());
  readonly positiveOffset = this.column('PositiveOffset', 'Int32', fixed());
  readonly positiveBucketCounts = this.column('PositiveBucketCounts', 'Array(UInt64)', arrayOf(fixed()));
  readonly negativeOffset = this.column('NegativeOffset', 'Int32', fixed());
  readonly negativeBucketCounts = this.column('NegativeBucketCounts', 'Array(UInt64)', arrayOf(fixed()));
  readonly exemplars = exemplarColumns(this);
  readonly flags = this.column('Flags', 'UInt32', fixed());
  readonly min = this.column('Min', 'Float64', fixed());
  readonly max = this.column('Max', 'Float64', fixed());
  readonly temporality = this.column('AggregationTemporality', 'Int32', fixed());

  constructor() {
    super(METRIC_TABLES.exponentialHistogram);
  }
}

class SummaryTable extends MetricTable {
  readonly count = this.column('Count', 'UInt64', fixed());
  readonly sum = this.column('Sum', 'Float64', fixed());
  readonly quantile = this.column('ValueAtQuantiles.Quantile', 'Array(Float64)', arrayOf(fixed()));
  readonly quantileValue = this.column('ValueAtQuantiles.Value', 'Array(Float64)', arrayOf(fixed()));
  readonly flags = this.column('Flags', 'UInt32', fixed());

  constructor() {
    super(METRIC_TABLES.summary);
  }
}

/** The table classes by Metric.data field number (5 gauge, 7 sum, 9 histogram, 10 exponential histogram, 11 summary). */
const TABLE_OF: Array<{ name: string; create: () => MetricTable } | undefined> = [];
TABLE_OF[5] = { name: METRIC_TABLES.gauge, create: () => new GaugeTable() };
TABLE_OF[7] = { name: METRIC_TABLES.sum, create: () => new SumTable() };
TABLE_OF[9] = { name: METRIC_TABLES.histogram, create: () => new HistogramTable() };
TABLE_OF[10] = { name: METRIC_TABLES.exponentialHistogram, create: () => new ExponentialHistogramTable() };
TABLE_OF[11] = { name: METRIC_TABLES.summary, create: () => new SummaryTable() };

/** [table, new encoder] of each metric table. */
export const METRIC_NATIVE_TABLES: Array<[string, () => NativeTable]> = TABLE_OF.filter((e) => e !== undefined).map((e) => [e.name, e.create]);

/** The record being mapped: its sink and tenant; tables are taken from the sink on first use. */
const out = { sink: null as NativeRowSink | null, tenant: '' };

function tableOf(member: number): MetricTable {
  const entry = TABLE_OF[member]!;
  let created = false;
  const t = out.sink!.table(entry.name, () => {
    created = true;
    return entry.create();
  });
  if (created || t.tenantFor !== out.tenant) {
    t.tenant = t.tenantId.idOfString(out.tenant);
    t.tenantFor = out.tenant;
  }
  return t;
}

/** What every point of a ResourceMetrics / ScopeMetrics / Metric shares (one of each: the walk is never re-entered). */
const resource: { attributes: ConstantMap; serviceName: ConstantString; schemaUrl: Buffer } = {
  attributes: new ConstantMap(),
  serviceName: new ConstantString(),
  schemaUrl: Buffer.alloc(0),
};
const scope: { name: ConstantString; version: ConstantString; attributes: ConstantMap; dropped: number; schemaUrl: Buffer } = {
  name: new ConstantString(),
  version: new ConstantString(),
  attributes: new ConstantMap(),
  dropped: 0,
  schemaUrl: Buffer.alloc(0),
};
const metricName = new ConstantString();
let descriptionS = 0;
let descriptionE = 0;
let unitS = 0;
let unitE = 0;
type Resource = typeof resource;
type Scope = typeof scope;

const METRIC_ROWS: SignalRows<null, Resource, Scope> = {
  request: EXPORT_METRICS,
  resourceX: RESOURCE_METRICS,
  scopeX: SCOPE_METRICS,
  keepsSchemaUrls: true,
  resourceText(c, _head, attrs, schemaJson) {
    resource.attributes.load(c, attrs);
    resource.serviceName.set(resource.attributes.serviceName);
    resource.schemaUrl = stringValueOfJson(schemaJson);
    return resource;
  },
  scopeText(c, _resource, fields: ScopeFields, schemaJson) {
    scope.name.set(bytesOfJson(fields.nameJson));
    scope.version.set(bytesOfJson(fields.versionJson));
    scope.attributes.load(c, fields.attrs);
    scope.dropped = fields.dropped;
    scope.schemaUrl = stringValueOfJson(schemaJson);
    return scope;
  },
  item: (c, start, end) => metric(c, start, end),
};

/** The columns every row of the metric being mapped repeats. */
function commonColumns(c: WireCursor, t: MetricTable): void {
  t.tenantId.push(t.tenant);
  resource.attributes.write(t.resourceAttributes);
  t.resourceSchemaUrl.copy(resource.schemaUrl, 0, resource.schemaUrl.length);
  t.scopeName.push(scope.name.idIn(t.scopeName));
  t.scopeVersion.push(scope.version.idIn(t.scopeVersion));
  scope.attributes.write(t.scopeAttributes);
  t.scopeDroppedAttrCount.u32(scope.dropped);
  t.scopeSchemaUrl.copy(scope.schemaUrl, 0, scope.schemaUrl.length);
  t.serviceName.push(resource.serviceName.idIn(t.serviceName));
  t.metricName.push(metricName.idIn(t.metricName));
  // Validated when the metric was read.
  t.metricDescription.stringTrusted(c.b, descriptionS, descriptionE);
  t.metricUnit.stringTrusted(c.b, unitS, unitE);
}

const DATA_SPECS: (MessageSpec | undefined)[] = [];
DATA_SPECS[5] = GAUGE;
DATA_SPECS[7] = SUM;
DATA_SPECS[9] = HISTOGRAM;
DATA_SPECS[10] = EXP_HISTOGRAM;
DATA_SPECS[11] = SUMMARY;

// Occurrences of Metric.data fields in one metric: field number, start, end.
const dataOcc: number[] = [];

function metric(c: WireCursor, start: number, end: number): number {
  let nameS = 0;
  let nameE = 0;
  let descS = 0;
  let descE = 0;
  let uS = 0;
  let uE = 0;
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
        if (descE !== descS) checkUtf8(b, descS, descE);
        descS = s;
        descE = c.pos;
      } else {
        if (uE !== uS) checkUtf8(b, uS, uE);
        uS = s;
        uE = c.pos;
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
  checkUtf8(b, nameS, nameE);
  checkUtf8(b, descS, descE);
  checkUtf8(b, uS, uE);
  metricName.set(b.subarray(nameS, nameE));
  descriptionS = descS;
  descriptionE = descE;
  unitS = uS;
  unitE = uE;
  if (nOcc === 0) return 0;
  // The data oneof: the last member set wins; its occurrences since another member was set merge.
  const winner = dataOcc[nOcc - 3];
  let first = nOcc - 3;
  while (first >= 3 && dataOcc[first - 3] === winner) first -= 3;
  // Occurrences a later member replaced are decoded (and so validated) by protobufjs too.
  for (let i = 0; i < first; i += 3) checkMessage(c, DATA_SPECS[dataOcc[i]]!, dataOcc[i + 1], dataOcc[i + 2], 0);
  return dataPoints(c, winner, first, nOcc);
}

/** The rows of the winning data member, whose merged occurrences are dataOcc[from, to). */
function dataPoints(c: WireCursor, member: number, from: number, to: number): number {
  const spec = DATA_SPECS[member]!;
  // First the data message's own fields (last value wins across merged occurrences).
  let temporality = 0;
  let monotonic = false;
  let points = 0;
  for (let i = from; i < to; i += 3) {
    const end = dataOcc[i + 2];
    c.pos = dataOcc[i + 1];
    while (c.pos < end) {
      const tag = c.tag(end);
      if (tag === 0x0a) {
        c.pos = c.length(end) + c.pos; // length() moves pos past the prefix first
        points++;
      } else if (tag === 0x10 && member !== 5 && member !== 11) temporality = c.varint(end) | 0;
      else if (tag === 0x18 && member === 7) {
        const lo = c.varint(end);
        monotonic = lo !== 0 || c.hi !== 0;
      } else skipField(c, tag, end, spec, 0);
    }
  }
  if (points === 0) return 0;
  const t = tableOf(member);
  let rows = 0;
  for (let i = from; i < to; i += 3) {
    const end = dataOcc[i + 2];
    c.pos = dataOcc[i + 1];
    while (c.pos < end) {
      const tag = c.tag(end);
      if (tag === 0x0a) {
        const e = c.delimited(end);
        const s = c.pos;
        commonColumns(c, t);
        if (member === 5 || member === 7) {
          numberPoint(c, s, e, t as GaugeTable);
          if (member === 7) {
            (t as SumTable).temporality.u32(temporality);
            (t as SumTable).monotonic.u8(monotonic ? 1 : 0);
          }
        } else if (member === 9) {
          histogramPoint(c, s, e, t as HistogramTable);
          (t as HistogramTable).temporality.u32(temporality);
        } else if (member === 10) {
          exponentialHistogramPoint(c, s, e, t as ExponentialHistogramTable);
          (t as ExponentialHistogramTable).temporality.u32(temporality);
        } else {
          summaryPoint(c, s, e, t as SummaryTable);
        }
        t.rows++;
        c.pos = e;
        rows++;
      } else {
        skipKnown(c, tag, end);
      }
    }
  }
  return rows;
}

const pointAttrs = new Ranges();
const subAttrs = new Ranges();
let exCount = 0;

const V_NONE = 0;
const V_DOUBLE = 1;
const V_INT = 2;

/** ../metrics.ts pointValue as stored: the double, else the int as a (possibly rounded) number, else 0. */
function pointValue(kind: number, dbl: number, hi: number, lo: number): number {
  return kind === V_DOUBLE ? storedFloat(dbl) : kind === V_INT ? i64Number(hi, lo) : 0;
}

/** Appends one exemplar to the point's Exemplars columns (the point's row ends them). */
function exemplar(c: WireCursor, start: number, end: number, ex: Exemplars): void {
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
  exCount++;
  writeMap(c, subAttrs, ex.filteredAttributes.items);
  ex.timeUnix.items.nanos(timeHi, timeLo);
  ex.value.items.f64(pointValue(kind, dbl, intHi, intLo));
  ex.spanId.items.hex(c.b, spanS, spanE);
  ex.traceId.items.hex(c.b, traceS, traceE);
}

function endExemplars(ex: Exemplars): void {
  ex.filteredAttributes.endRow(exCount);
  ex.timeUnix.endRow(exCount);
  ex.value.endRow(exCount);
  ex.spanId.endRow(exCount);
  ex.traceId.endRow(exCount);
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
function pointField(c: WireCursor, tag: number, end: number, layout: PointLayout, ex: Exemplars | null): void {
  if (tag === 0x11) {
    pt.startLo = c.fixed64(end);
    pt.startHi = c.hi;
  } else if (tag === 0x19) {
    pt.timeLo = c.fixed64(end);
    pt.timeHi = c.hi;
  } else if (tag === layout.attributes) {
    pointAttrs.pushField(c, end);
  } else if (tag === layout.exemplars && ex !== null) {
    const e = c.delimited(end);
    exemplar(c, c.pos, e, ex);
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

/** Attributes, StartTimeUnix and TimeUnix of the point. */
function headColumns(c: WireCursor, t: MetricTable, startHi: number, startLo: number, timeHi: number, timeLo: number): void {
  writeMap(c, pointAttrs, t.attributes);
  t.startTimeUnix.nanos(startHi, startLo);
  t.timeUnix.nanos(timeHi, timeLo);
}

/** headColumns with Count and Sum (histogram, exponential histogram and summary points). */
function headCountSumColumns(c: WireCursor, t: HistogramTable | ExponentialHistogramTable | SummaryTable): void {
  headColumns(c, t, pt.startHi, pt.startLo, pt.timeHi, pt.timeLo);
  t.count.u64(pt.countHi, pt.countLo);
  t.sum.f64(storedFloat(pt.sum));
}

/** The columns the two histogram tables end with. */
function histogramTail(t: HistogramTable | ExponentialHistogramTable): void {
  endExemplars(t.exemplars);
  t.flags.u32(pt.flags);
  t.min.f64(storedFloat(pt.min));
  t.max.f64(storedFloat(pt.max));
}

/** Gauge and sum points, with their fields in locals and one switch (they are most metric rows). */
function numberPoint(c: WireCursor, start: number, end: number, t: GaugeTable): void {
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
        exemplar(c, c.pos, e, t.exemplars);
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
  headColumns(c, t, startHi, startLo, timeHi, timeLo);
  t.value.f64(pointValue(kind, dbl, intHi, intLo));
  t.flags.u32(flags);
  endExemplars(t.exemplars);
}

/** A HistogramDataPoint's repeated fixed 64-bit values (one, or a packed run) appended to an array column's items; returns how many. */
function fixed64Values(c: WireCursor, tag: number, end: number, items: NativeBytes, field: string, asDouble: boolean): number {
  if ((tag & 7) !== 2) {
    fixed64Value(c, end, items, asDouble);
    return 1;
  }
  const len = c.length(end);
  if (len % 8 !== 0) throw wireError(`${HISTOGRAM_POINT.name}.${field}: packed run of ${len} bytes is not a multiple of 8`, c.pos);
  const runEnd = c.pos + len;
  while (c.pos < runEnd) fixed64Value(c, runEnd, items, asDouble);
  return len / 8;
}

function fixed64Value(c: WireCursor, end: number, items: NativeBytes, asDouble: boolean): void {
  if (asDouble) {
    items.f64(storedFloat(c.double(end)));
    return;
  }
  const lo = c.fixed64(end);
  items.u64(c.hi, lo);
}

/** Repeated uint64 varints (one, or a packed run) appended to an array column's items; returns how many. */
function uint64s(c: WireCursor, tag: number, end: number, items: NativeBytes): number {
  if ((tag & 7) === 0) {
    const lo = c.varint(end);
    items.u64(c.hi, lo);
    return 1;
  }
  const runEnd = c.delimited(end);
  let n = 0;
  while (c.pos < runEnd) {
    const lo = c.varint(runEnd);
    items.u64(c.hi, lo);
    n++;
  }
  return n;
}

function histogramPoint(c: WireCursor, start: number, end: number, t: HistogramTable): void {
  let counts = 0;
  let bounds = 0;
  beginPoint(c, start);
  while (c.pos < end) {
    const tag = c.tag(end);
    if (tag === 0x31 || tag === 0x32) counts += fixed64Values(c, tag, end, t.bucketCounts.items, 'bucketCounts', false);
    else if (tag === 0x39 || tag === 0x3a) bounds += fixed64Values(c, tag, end, t.explicitBounds.items, 'explicitBounds', true);
    else pointField(c, tag, end, HISTOGRAM_LAYOUT, t.exemplars);
  }
  headCountSumColumns(c, t);
  t.bucketCounts.endRow(counts);
  t.explicitBounds.endRow(bounds);
  histogramTail(t);
}

// Offsets and counts of the exponential histogram point's Buckets (a Buckets message seen twice is merged).
let bucketOffset = 0;
let bucketCount = 0;

/** Feeds a Buckets message: counts appended to `items`, the offset (last wins) and count in bucketOffset / bucketCount. */
function buckets(c: WireCursor, start: number, end: number, items: NativeBytes): void {
  c.pos = start;
  while (c.pos < end) {
    const tag = c.tag(end);
    if (tag === 0x08) bucketOffset = sint32(c.varint(end));
    else if (tag === 0x10 || tag === 0x12) bucketCount += uint64s(c, tag, end, items);
    else skipField(c, tag, end, BUCKETS, 0);
  }
}

function sint32(v: number): number {
  return ((v >>> 1) ^ -(v & 1)) | 0;
}

function exponentialHistogramPoint(c: WireCursor, start: number, end: number, t: ExponentialHistogramTable): void {
  let zeroHi = 0;
  let zeroLo = 0;
  let zeroThreshold = 0;
  let scale = 0;
  let posOffset = 0;
  let negOffset = 0;
  let posCount = 0;
  let negCount = 0;
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
        bucketOffset = posOffset;
        bucketCount = 0;
        buckets(c, c.pos, e, t.positiveBucketCounts.items);
        posOffset = bucketOffset;
        posCount += bucketCount;
        c.pos = e;
        break;
      }
      case 0x4a: {
        const e = c.delimited(end);
        bucketOffset = negOffset;
        bucketCount = 0;
        buckets(c, c.pos, e, t.negativeBucketCounts.items);
        negOffset = bucketOffset;
        negCount += bucketCount;
        c.pos = e;
        break;
      }
      case 0x71:
        zeroThreshold = c.double(end);
        break;
      default:
        pointField(c, tag, end, EXP_HISTOGRAM_LAYOUT, t.exemplars);
    }
  }
  headCountSumColumns(c, t);
  t.scale.u32(scale);
  t.zeroCount.u64(zeroHi, zeroLo);
  t.zeroThreshold.f64(storedFloat(zeroThreshold));
  t.positiveOffset.u32(posOffset);
  t.positiveBucketCounts.endRow(posCount);
  t.negativeOffset.u32(negOffset);
  t.negativeBucketCounts.endRow(negCount);
  histogramTail(t);
}

function summaryPoint(c: WireCursor, start: number, end: number, t: SummaryTable): void {
  let n = 0;
  beginPoint(c, start);
  while (c.pos < end) {
    const tag = c.tag(end);
    if (tag === 0x32) {
      const qEnd = c.delimited(end);
      let q = 0;
      let v = 0;
      while (c.pos < qEnd) {
        const tg = c.tag(qEnd);
        if (tg === 0x09) q = c.double(qEnd);
        else if (tg === 0x11) v = c.double(qEnd);
        else skipField(c, tg, qEnd, VALUE_AT_QUANTILE, 0);
      }
      t.quantile.items.f64(storedFloat(q));
      t.quantileValue.items.f64(storedFloat(v));
      n++;
    } else {
      pointField(c, tag, end, SUMMARY_LAYOUT, null);
    }
  }
  headCountSumColumns(c, t);
  t.quantile.endRow(n);
  t.quantileValue.endRow(n);
  t.flags.u32(pt.flags);
}

/** Decodes an ExportMetricsServiceRequest and appends one row per data point to its type's table; throws OtlpDecodeError on bad bytes. */
export function appendMetricNative(bytes: Uint8Array, tenant: TenantId, sink: NativeRowSink): number {
  out.sink = sink;
  out.tenant = tenant;
  try {
    return walkExport(new WireCursor(bytes), METRIC_ROWS, '', null);
  } finally {
    out.sink = null;
  }
}
