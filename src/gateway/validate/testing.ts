/** Request builders for the validator's tests: valid items by default, each field overridable. */
import { decodeRequest, opentelemetry } from '../../otlp/index.ts';
import type { ValidationLimits } from './limits.ts';

const v1 = opentelemetry.proto.collector;
type Obj = Record<string, unknown>;

export const NOW_MS = Date.UTC(2026, 0, 15, 12, 0, 0);
export const HOUR_MS = 3_600_000;

/** Small limits, so tests sit right at their boundaries. */
export const LIMITS: ValidationLimits = {
  maxAttributesPerItem: 8,
  maxAttributeValueBytes: 64,
  maxAttributeDepth: 4,
  maxEventsPerSpan: 3,
  maxLinksPerSpan: 2,
  maxPastHours: 24,
  maxFutureMinutes: 30,
};

/** Unix nanoseconds (decimal string) of a millisecond instant. */
export function nanos(ms: number): string {
  return (BigInt(Math.round(ms)) * 1_000_000n).toString();
}

export function attrs(n: number, prefix = 'k'): Obj[] {
  return Array.from({ length: n }, (_, i) => ({ key: `${prefix}${i}`, value: { stringValue: `v${i}` } }));
}

/** An AnyValue `depth` levels deep (1 = a plain string), nesting through arrays or maps. */
export function nested(depth: number, via: 'array' | 'map' = 'array'): Obj {
  let v: Obj = { stringValue: 'leaf' };
  for (let d = 1; d < depth; d++) {
    v = via === 'array' ? { arrayValue: { values: [v] } } : { kvlistValue: { values: [{ key: `l${d}`, value: v }] } };
  }
  return v;
}

export function id(bytes: number, seed: number): Buffer {
  const b = Buffer.alloc(bytes);
  b.writeUInt32BE(seed + 1, bytes - 4);
  b[0] = 0xab;
  return b;
}

/** A valid span (the i-th of a trace), ending 1 s before NOW_MS. */
export function span(i: number, over: Obj = {}): Obj {
  return {
    traceId: id(16, 7),
    spanId: id(8, i),
    name: `op ${i}`,
    kind: 2,
    startTimeUnixNano: nanos(NOW_MS - 1000 - i),
    endTimeUnixNano: nanos(NOW_MS - 995 - i),
    attributes: attrs(2),
    ...over,
  };
}

export function traces(spans: Obj[], resource: Obj = {}, scope: Obj = {}): Uint8Array {
  const request = {
    resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'svc' } }], ...resource }, scopeSpans: [{ scope: { name: 'test', ...scope }, spans }] }],
  };
  return v1.trace.v1.ExportTraceServiceRequest.encode(v1.trace.v1.ExportTraceServiceRequest.fromObject(request)).finish();
}

export function logRecord(i: number, over: Obj = {}): Obj {
  return { timeUnixNano: nanos(NOW_MS - 1000), severityNumber: 9, body: { stringValue: `line ${i}` }, attributes: attrs(2), ...over };
}

export function logs(records: Obj[], resource: Obj = {}): Uint8Array {
  const request = { resourceLogs: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'svc' } }], ...resource }, scopeLogs: [{ logRecords: records }] }] };
  return v1.logs.v1.ExportLogsServiceRequest.encode(v1.logs.v1.ExportLogsServiceRequest.fromObject(request)).finish();
}

export function numberPoint(i: number, over: Obj = {}): Obj {
  return { timeUnixNano: nanos(NOW_MS - 1000), asDouble: i + 0.5, attributes: attrs(1), ...over };
}

export function histogramPoint(buckets: number, bounds: number, over: Obj = {}): Obj {
  return {
    timeUnixNano: nanos(NOW_MS - 1000),
    count: buckets,
    bucketCounts: Array.from({ length: buckets }, () => 1),
    explicitBounds: Array.from({ length: bounds }, (_, i) => i * 10),
    ...over,
  };
}

/** One resource, one scope, the given metrics (each `{ name, gauge: { dataPoints } }` etc.). */
export function metrics(list: Obj[], resource: Obj = {}): Uint8Array {
  const request = { resourceMetrics: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'svc' } }], ...resource }, scopeMetrics: [{ metrics: list }] }] };
  return v1.metrics.v1.ExportMetricsServiceRequest.encode(v1.metrics.v1.ExportMetricsServiceRequest.fromObject(request)).finish();
}

/** The spans of a (validated) traces request, decoded. */
export function spansOf(bytes: Uint8Array) {
  return decodeRequest('traces', bytes).resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans));
}

// Hand-built protobuf, for shapes protobufjs cannot encode (it recurses per nesting level).

export function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}

/** A length-delimited field: tag (field `no`, wire type 2), length, bytes. */
export function lenField(no: number, bytes: Uint8Array): Uint8Array {
  return Buffer.concat([Buffer.from(varint((no << 3) | 2)), Buffer.from(varint(bytes.length)), bytes]);
}

/** A KeyValue whose value is an AnyValue `depth` levels of arrays deep, built without recursion. */
export function deepKeyValue(key: string, depth: number): Uint8Array {
  let anyValue: Uint8Array = lenField(1, Buffer.from('leaf')); // AnyValue{string_value}
  for (let d = 1; d < depth; d++) anyValue = lenField(5, lenField(1, anyValue)); // AnyValue{array_value: ArrayValue{values: [..]}}
  return Buffer.concat([lenField(1, Buffer.from(key)), lenField(2, anyValue)]);
}

/** A traces request of the given encoded spans (one resource, one scope), built by hand. */
export function tracesOfSpanBytes(spans: Uint8Array[]): Uint8Array {
  const scopeSpans = Buffer.concat(spans.map((s) => lenField(2, s)));
  const resource = lenField(1, lenField(1, Buffer.concat([lenField(1, Buffer.from('service.name')), lenField(2, lenField(1, Buffer.from('svc')))])));
  return lenField(1, Buffer.concat([resource, lenField(2, scopeSpans)]));
}

export function encodeSpan(s: Obj): Uint8Array {
  const Span = opentelemetry.proto.trace.v1.Span;
  return Span.encode(Span.fromObject(s)).finish();
}
