/**
 * The validating walk of one Metric: its data points are the items, each checked and dropped
 * alone; the metric's metadata attributes are checked like a scope's (a failure rejects all of
 * its points).
 */
import { wireError } from '../../otlp/index.ts';
import { R_ATTRIBUTES, R_BUCKETS, R_MALFORMED, R_MALFORMED_METRIC, R_METADATA_DEPTH, R_METRIC_DATA_FIELDS, R_METRIC_METADATA, R_NO_TIME, R_NO_VALUE } from './reasons.ts';
import { fields, type Scanner } from './scanner.ts';

const GAUGE = 5;
const SUM = 7;
const HISTOGRAM = 9;
const EXP_HISTOGRAM = 10;
const SUMMARY = 11;

const METRIC_FIELDS = fields(1, 2, 3, 5, 7, 9, 10, 11, 12);
const DATA_FIELDS: Record<number, number> = {
  [GAUGE]: fields(1),
  [SUM]: fields(1, 2, 3),
  [HISTOGRAM]: fields(1, 2),
  [EXP_HISTOGRAM]: fields(1, 2),
  [SUMMARY]: fields(1),
};
const NUMBER_FIELDS = fields(2, 3, 4, 5, 6, 7, 8);
const HISTOGRAM_FIELDS = fields(2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12);
const EXP_FIELDS = fields(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14);
const SUMMARY_FIELDS = fields(2, 3, 4, 5, 6, 7, 8);
const EXEMPLAR_FIELDS = fields(2, 3, 4, 5, 6, 7);
const BUCKETS_FIELDS = fields(1, 2);
const BUCKETS_WIRE_TYPES = [-1, 0, 0];
const QUANTILE_FIELDS = fields(1, 2);
const QUANTILE_WIRE_TYPES = [-1, 1, 1];

/** DataPointFlags.FLAG_NO_RECORDED_VALUE: the point marks a gap, so it carries no value on purpose. */
const NO_RECORDED_VALUE = 1;

/**
 * Walks a metric field spanning [at, end) (r.pos at its first field): a container whose items
 * are its data points. A structural error outside a point, or a failed check of its metadata,
 * rejects all of its points.
 */
export function scanMetric(s: Scanner, at: number, end: number): void {
  const r = s.r;
  const start = s.containerStart();
  let metadata = 0;
  let metricReason = 0;
  let member = 0;
  s.pointCodes.length = 0;
  try {
    while (r.pos < end) {
      const fieldAt = r.pos;
      const tag = s.tag(end);
      const no = tag >>> 3;
      if (tag === 0x0a || tag === 0x12 || tag === 0x1a) {
        const code = s.containerString(end, R_MALFORMED_METRIC); // name, description, unit
        if (metricReason === 0) metricReason = code;
      } else if ((tag & 7) === 2 && DATA_FIELDS[no] !== undefined) {
        if (member !== 0) {
          // protobuf lets a later data field merge into (same member) or replace (another) the
          // earlier one; no exporter sends two, so the metric is rejected, its points counted as
          // the codec counts them: a replaced member's points were never items.
          if (metricReason === 0) metricReason = R_METRIC_DATA_FIELDS;
          if (no !== member) forgetPoints(s, start.items);
        }
        member = no;
        const len = s.len(end);
        scanData(s, no, r.pos + len);
      } else if (tag === 0x62) {
        metadata++;
        const code = s.containerAttribute(end, R_METADATA_DEPTH, R_MALFORMED_METRIC);
        if (metricReason === 0) metricReason = code;
      } else {
        s.other(tag, fieldAt, end, METRIC_FIELDS, 'Metric');
      }
    }
  } catch (err) {
    const code = s.malformed(err, end, R_MALFORMED_METRIC);
    if (metricReason === 0) metricReason = code;
  }
  if (metricReason === 0 && metadata > s.maxAttributes) metricReason = R_METRIC_METADATA;
  s.settleContainer(start, at, end, metricReason);
}

/** Takes back the points walked so far in this metric (their count and their rejections). */
function forgetPoints(s: Scanner, itemsBefore: number): void {
  s.items = itemsBefore;
  for (const code of s.pointCodes) s.tally.remove(code);
  s.pointCodes.length = 0;
}

/** Gauge, Sum, Histogram, ExponentialHistogram or Summary: field 1 holds the points. */
function scanData(s: Scanner, kind: number, end: number): void {
  const r = s.r;
  while (r.pos < end) {
    const at = r.pos;
    const tag = s.tag(end);
    if (tag === 0x0a) {
      const len = s.len(end);
      const pointEnd = r.pos + len;
      s.items++;
      const mark = s.editCount;
      s.reason = 0;
      try {
        if (kind === GAUGE || kind === SUM) scanNumberPoint(s, pointEnd);
        else if (kind === HISTOGRAM) scanHistogramPoint(s, pointEnd);
        else if (kind === EXP_HISTOGRAM) scanExpHistogramPoint(s, pointEnd);
        else scanSummaryPoint(s, pointEnd);
      } catch (err) {
        s.reject(s.malformed(err, pointEnd, R_MALFORMED));
      }
      const code = s.settleItem(mark, at, pointEnd);
      if (code !== 0) s.pointCodes.push(code);
    } else if (tag === 0x10 || tag === 0x18) {
      r.skipVarint(end); // aggregation_temporality, is_monotonic
    } else {
      s.other(tag, at, end, DATA_FIELDS[kind], 'metric data');
    }
  }
}

function scanNumberPoint(s: Scanner, end: number): void {
  const r = s.r;
  let timeNs = 0;
  let hasValue = false;
  let flags = 0;
  let attributes = 0;
  while (r.pos < end) {
    const at = r.pos;
    const tag = s.tag(end);
    switch (tag) {
      case 0x11: // start_time_unix_nano: not checked (a cumulative series may have started long ago)
        r.fixed(8, end);
        break;
      case 0x19:
        timeNs = s.fixed64(end);
        break;
      case 0x21: // as_double
      case 0x31: // as_int
        hasValue = true;
        r.fixed(8, end);
        break;
      case 0x2a:
        scanExemplar(s, end);
        break;
      case 0x3a:
        attributes++;
        s.attribute(end);
        break;
      case 0x40:
        flags = readFlags(s, end);
        break;
      default:
        s.other(tag, at, end, NUMBER_FIELDS, 'NumberDataPoint');
    }
  }
  if (attributes > s.maxAttributes) s.reject(R_ATTRIBUTES);
  s.checkTime(timeNs, R_NO_TIME);
  if (!hasValue && (flags & NO_RECORDED_VALUE) === 0) s.reject(R_NO_VALUE);
}

function scanHistogramPoint(s: Scanner, end: number): void {
  const r = s.r;
  let timeNs = 0;
  let attributes = 0;
  let buckets = 0;
  let bounds = 0;
  while (r.pos < end) {
    const at = r.pos;
    const tag = s.tag(end);
    switch (tag) {
      case 0x19:
        timeNs = s.fixed64(end);
        break;
      case 0x11: // start_time_unix_nano
      case 0x21: // count
      case 0x29: // sum
      case 0x59: // min
      case 0x61: // max
        r.fixed(8, end);
        break;
      case 0x31: // bucket_counts, one unpacked fixed64
        buckets++;
        r.fixed(8, end);
        break;
      case 0x32: // bucket_counts, packed
        buckets += packedFixed64(s, end, 'HistogramDataPoint.bucket_counts');
        break;
      case 0x39: // explicit_bounds, one unpacked double
        bounds++;
        r.fixed(8, end);
        break;
      case 0x3a: // explicit_bounds, packed
        bounds += packedFixed64(s, end, 'HistogramDataPoint.explicit_bounds');
        break;
      case 0x42:
        scanExemplar(s, end);
        break;
      case 0x4a:
        attributes++;
        s.attribute(end);
        break;
      case 0x50: // flags
        r.skipVarint(end);
        break;
      default:
        s.other(tag, at, end, HISTOGRAM_FIELDS, 'HistogramDataPoint');
    }
  }
  if (attributes > s.maxAttributes) s.reject(R_ATTRIBUTES);
  s.checkTime(timeNs, R_NO_TIME);
  // OTLP: one more count than bounds (the last bucket is open-ended), or neither.
  if (buckets !== bounds + 1 && !(buckets === 0 && bounds === 0)) s.reject(R_BUCKETS);
}

function scanExpHistogramPoint(s: Scanner, end: number): void {
  const r = s.r;
  let timeNs = 0;
  let attributes = 0;
  while (r.pos < end) {
    const at = r.pos;
    const tag = s.tag(end);
    switch (tag) {
      case 0x0a:
        attributes++;
        s.attribute(end);
        break;
      case 0x19:
        timeNs = s.fixed64(end);
        break;
      case 0x11: // start_time_unix_nano
      case 0x21: // count
      case 0x29: // sum
      case 0x39: // zero_count
      case 0x61: // min
      case 0x69: // max
      case 0x71: // zero_threshold
        r.fixed(8, end);
        break;
      case 0x30: // scale
      case 0x50: // flags
        r.skipVarint(end);
        break;
      case 0x42: // positive
      case 0x4a: {
        // negative
        const len = s.len(end);
        s.flat(r.pos + len, BUCKETS_FIELDS, BUCKETS_WIRE_TYPES, fields(2), 0, 'ExponentialHistogramDataPoint.Buckets');
        break;
      }
      case 0x5a:
        scanExemplar(s, end);
        break;
      default:
        s.other(tag, at, end, EXP_FIELDS, 'ExponentialHistogramDataPoint');
    }
  }
  if (attributes > s.maxAttributes) s.reject(R_ATTRIBUTES);
  s.checkTime(timeNs, R_NO_TIME);
}

function scanSummaryPoint(s: Scanner, end: number): void {
  const r = s.r;
  let timeNs = 0;
  let attributes = 0;
  while (r.pos < end) {
    const at = r.pos;
    const tag = s.tag(end);
    switch (tag) {
      case 0x19:
        timeNs = s.fixed64(end);
        break;
      case 0x11: // start_time_unix_nano
      case 0x21: // count
      case 0x29: // sum
        r.fixed(8, end);
        break;
      case 0x32: {
        const len = s.len(end);
        s.flat(r.pos + len, QUANTILE_FIELDS, QUANTILE_WIRE_TYPES, 0, 0, 'SummaryDataPoint.ValueAtQuantile');
        break;
      }
      case 0x3a:
        attributes++;
        s.attribute(end);
        break;
      case 0x40:
        r.skipVarint(end);
        break;
      default:
        s.other(tag, at, end, SUMMARY_FIELDS, 'SummaryDataPoint');
    }
  }
  if (attributes > s.maxAttributes) s.reject(R_ATTRIBUTES);
  s.checkTime(timeNs, R_NO_TIME);
}

/** An exemplar (r.pos at its length): its filtered attributes count against the point's limits. */
function scanExemplar(s: Scanner, outerEnd: number): void {
  const r = s.r;
  const len = s.len(outerEnd);
  const end = r.pos + len;
  let attributes = 0;
  while (r.pos < end) {
    const at = r.pos;
    const tag = s.tag(end);
    if (tag === 0x3a) {
      attributes++;
      s.attribute(end);
    } else if (tag === 0x11 || tag === 0x19 || tag === 0x31) {
      r.fixed(8, end);
    } else if (tag === 0x22 || tag === 0x2a) {
      s.skipLen(end);
    } else {
      s.other(tag, at, end, EXEMPLAR_FIELDS, 'Exemplar');
    }
  }
  if (attributes > s.maxAttributes) s.reject(R_ATTRIBUTES);
}

/** Elements in a packed run of 64-bit values (r.pos at its length). */
function packedFixed64(s: Scanner, end: number, field: string): number {
  const r = s.r;
  const at = r.pos;
  const len = s.len(end);
  if (len % 8 !== 0) throw wireError(`${field}: packed run of ${len} bytes is not a multiple of 8`, at);
  r.pos += len;
  return len / 8;
}

/** The low bits of a uint32 flags varint (the only ones defined), skipping the whole varint. */
function readFlags(s: Scanner, end: number): number {
  const flags = s.r.pos < end ? s.buf[s.r.pos] & 0x7f : 0;
  s.r.skipVarint(end);
  return flags;
}
