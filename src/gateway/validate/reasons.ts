/**
 * Why an item was rejected: one code per check, counted per request, and summarised into the
 * OTLP partial-success message ("rejected 3 spans: 2 with an empty trace id, 1 timestamped
 * 9 days in the past (limit 168 hours)"). An item is counted once, under the first check it failed.
 */
import type { Signal } from '../../telemetry/signals.ts';
import type { ValidationLimits } from './limits.ts';

// Plain numeric codes (no enums under erasableSyntaxOnly); they index the tally.
export const R_TRACE_ID_EMPTY = 1;
export const R_TRACE_ID_ZERO = 2;
export const R_TRACE_ID_LENGTH = 3;
export const R_SPAN_ID_EMPTY = 4;
export const R_SPAN_ID_ZERO = 5;
export const R_SPAN_ID_LENGTH = 6;
export const R_PARENT_ID_LENGTH = 7;
export const R_ATTRIBUTES = 8;
export const R_EVENT_ATTRIBUTES = 9;
export const R_LINK_ATTRIBUTES = 10;
export const R_RESOURCE_ATTRIBUTES = 11;
export const R_SCOPE_ATTRIBUTES = 12;
export const R_METRIC_METADATA = 13;
export const R_DEPTH = 14;
export const R_BODY_DEPTH = 15;
export const R_RESOURCE_DEPTH = 16;
export const R_SCOPE_DEPTH = 17;
export const R_METADATA_DEPTH = 18;
export const R_EVENTS = 19;
export const R_LINKS = 20;
export const R_NO_START = 21;
export const R_NO_END = 22;
export const R_NO_TIME = 23;
export const R_END_BEFORE_START = 24;
export const R_PAST = 25;
export const R_FUTURE = 26;
export const R_NO_VALUE = 27;
export const R_BUCKETS = 28;
// Structure the storage decoders would refuse (src/otlp codec rules: wire types, UTF-8, lengths).
export const R_MALFORMED = 29;
export const R_MALFORMED_RESOURCE = 30;
export const R_MALFORMED_SCOPE = 31;
export const R_MALFORMED_METRIC = 32;
export const R_METRIC_DATA_FIELDS = 33;
const REASON_COUNT = 34;

const NOUN: Record<Signal, [string, string]> = {
  traces: ['span', 'spans'],
  logs: ['log record', 'log records'],
  metrics: ['data point', 'data points'],
};

function describe(code: number, l: ValidationLimits, count: number, worstNs: number, detail: string | undefined): string {
  const upTo = count > 1 ? 'up to ' : '';
  switch (code) {
    case R_TRACE_ID_EMPTY: return 'with an empty trace id';
    case R_TRACE_ID_ZERO: return 'with an all-zero trace id';
    case R_TRACE_ID_LENGTH: return 'with a trace id that is not 16 bytes';
    case R_SPAN_ID_EMPTY: return 'with an empty span id';
    case R_SPAN_ID_ZERO: return 'with an all-zero span id';
    case R_SPAN_ID_LENGTH: return 'with a span id that is not 8 bytes';
    case R_PARENT_ID_LENGTH: return 'with a parent span id that is not 8 bytes';
    case R_ATTRIBUTES: return `with more than ${l.maxAttributesPerItem} attributes`;
    case R_EVENT_ATTRIBUTES: return `with an event of more than ${l.maxAttributesPerItem} attributes`;
    case R_LINK_ATTRIBUTES: return `with a link of more than ${l.maxAttributesPerItem} attributes`;
    case R_RESOURCE_ATTRIBUTES: return `in a resource with more than ${l.maxAttributesPerItem} attributes`;
    case R_SCOPE_ATTRIBUTES: return `in a scope with more than ${l.maxAttributesPerItem} attributes`;
    case R_METRIC_METADATA: return `in a metric with more than ${l.maxAttributesPerItem} metadata attributes`;
    case R_DEPTH: return `with an attribute nested deeper than ${l.maxAttributeDepth} levels`;
    case R_BODY_DEPTH: return `with a body nested deeper than ${l.maxAttributeDepth} levels`;
    case R_RESOURCE_DEPTH: return `in a resource with an attribute nested deeper than ${l.maxAttributeDepth} levels`;
    case R_SCOPE_DEPTH: return `in a scope with an attribute nested deeper than ${l.maxAttributeDepth} levels`;
    case R_METADATA_DEPTH: return `in a metric with metadata nested deeper than ${l.maxAttributeDepth} levels`;
    case R_EVENTS: return `with more than ${l.maxEventsPerSpan} events`;
    case R_LINKS: return `with more than ${l.maxLinksPerSpan} links`;
    case R_NO_START: return 'with no start time';
    case R_NO_END: return 'with no end time';
    case R_NO_TIME: return 'with no timestamp';
    case R_END_BEFORE_START: return 'with an end time before the start time';
    case R_PAST: return `timestamped ${upTo}${duration(worstNs)} in the past (limit ${l.maxPastHours} hours)`;
    case R_FUTURE: return `timestamped ${upTo}${duration(worstNs)} in the future (limit ${l.maxFutureMinutes} minutes)`;
    case R_NO_VALUE: return 'with no value';
    case R_BUCKETS: return 'whose bucket counts do not number one more than their explicit bounds';
    case R_MALFORMED: return `malformed (${detail})`;
    case R_MALFORMED_RESOURCE: return `in a malformed resource entry (${detail})`;
    case R_MALFORMED_SCOPE: return `in a malformed scope entry (${detail})`;
    case R_MALFORMED_METRIC: return `in a malformed metric (${detail})`;
    case R_METRIC_DATA_FIELDS: return 'in a metric with more than one data field (gauge, sum, histogram, exponential_histogram, summary)';
    default: return `failing check ${code}`;
  }
}

/** A rounded, readable duration: "9 days", "5 hours", "90 minutes". */
function duration(ns: number): string {
  const minutes = Math.floor(ns / 60e9);
  if (minutes >= 2 * 24 * 60) return `${Math.floor(minutes / (24 * 60))} days`;
  if (minutes >= 2 * 60) return `${Math.floor(minutes / 60)} hours`;
  return minutes === 1 ? '1 minute' : `${minutes} minutes`;
}

/** Rejections of one request, by reason, plus the truncations made to items that were kept. */
export class Tally {
  readonly counts = new Array<number>(REASON_COUNT).fill(0);
  /** Order in which reasons were first seen, for a stable message. */
  readonly order: number[] = [];
  /** Furthest distance past the window edge, for the two timestamp reasons. */
  worstPastNs = 0;
  worstFutureNs = 0;
  rejected = 0;
  /** For the malformed reasons: the first decode error seen under each, shown in the message. */
  readonly details: (string | undefined)[] = [];

  add(code: number, n: number): void {
    if (n <= 0) return;
    if (this.counts[code] === 0 && !this.order.includes(code)) this.order.push(code);
    this.counts[code] += n;
    this.rejected += n;
  }

  /** Takes back one rejection (a metric data point that a later data field replaced, so was never an item). */
  remove(code: number): void {
    this.counts[code]--;
    this.rejected--;
  }

  /** Keeps the first detail of a malformed reason. */
  note(code: number, detail: string): void {
    if (this.details[code] === undefined) this.details[code] = detail;
  }

  message(signal: Signal, limits: ValidationLimits, truncated: number): string {
    const parts: string[] = [];
    if (this.rejected > 0) {
      const [one, many] = NOUN[signal];
      const reasons = this.order.filter((code) => this.counts[code] > 0).sort((a, b) => this.counts[b] - this.counts[a]);
      const text = reasons.map((code) => {
        const n = this.counts[code];
        return `${n} ${describe(code, limits, n, code === R_PAST ? this.worstPastNs : this.worstFutureNs, this.details[code])}`;
      });
      parts.push(`rejected ${this.rejected} ${this.rejected === 1 ? one : many}: ${text.join(', ')}`);
    }
    if (truncated > 0) {
      parts.push(`truncated ${truncated} attribute value${truncated === 1 ? '' : 's'} longer than ${limits.maxAttributeValueBytes} bytes`);
    }
    return parts.join('; ');
  }
}
