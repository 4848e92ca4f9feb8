/** Decoding helpers shared by the demo's tests: what a backend would see on the wire. */
import { opentelemetry } from '../otlp/index.ts';
import { hex } from '../otlp/index.ts';

const v1 = opentelemetry.proto;

export interface FlatSpan {
  service: string;
  resource: Map<string, string>;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  start: bigint;
  end: bigint;
  statusCode: number;
  attributes: Map<string, unknown>;
  events: Array<{ name: string; attributes: Map<string, unknown> }>;
}

export interface FlatLog {
  service: string;
  traceId: string;
  spanId: string;
  severityNumber: number;
  severityText: string;
  body: string;
}

/** Plain objects with every field present and 64-bit values as decimal strings: easy to assert on. */
const PLAIN = { longs: String, defaults: true, arrays: true, oneofs: true } as const;

/** A decoded export request as plain objects (untyped: tests read them field by field). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Plain = any;

export function decodeTracesPlain(bytes: Uint8Array): Plain {
  const T = v1.collector.trace.v1.ExportTraceServiceRequest;
  return T.toObject(T.decode(bytes), PLAIN);
}

export function decodeLogsPlain(bytes: Uint8Array): Plain {
  const T = v1.collector.logs.v1.ExportLogsServiceRequest;
  return T.toObject(T.decode(bytes), PLAIN);
}

export function decodeMetricsPlain(bytes: Uint8Array): Plain {
  const T = v1.collector.metrics.v1.ExportMetricsServiceRequest;
  return T.toObject(T.decode(bytes), PLAIN);
}

export function toBig(v: unknown): bigint {
  return BigInt(String(v));
}

export function attrMap(kvs: ReadonlyArray<{ key?: string | null; value?: unknown }> | null | undefined): Map<string, unknown> {
  const m = new Map<string, unknown>();
  for (const kv of kvs ?? []) {
    const v = kv.value as Record<string, unknown> | null | undefined;
    const value = v ? (v.stringValue ?? v.intValue ?? v.doubleValue ?? v.boolValue) : undefined;
    // toObject gives int64 as a decimal string; intValue is the only int64 in attributes here.
    m.set(kv.key ?? '', v && v.intValue != null ? Number(v.intValue) : value);
  }
  return m;
}

export function decodeSpans(bytes: Uint8Array): FlatSpan[] {
  const req = decodeTracesPlain(bytes);
  const out: FlatSpan[] = [];
  for (const rs of req.resourceSpans) {
    const resource = attrMap(rs.resource?.attributes) as Map<string, string>;
    for (const ss of rs.scopeSpans) {
      for (const s of ss.spans) {
        out.push({
          service: resource.get('service.name') ?? '',
          resource,
          traceId: hex(s.traceId),
          spanId: hex(s.spanId),
          parentSpanId: hex(s.parentSpanId),
          name: s.name,
          kind: s.kind,
          start: toBig(s.startTimeUnixNano),
          end: toBig(s.endTimeUnixNano),
          statusCode: s.status ? s.status.code : 0,
          attributes: attrMap(s.attributes),
          events: s.events.map((e: Plain) => ({ name: e.name, attributes: attrMap(e.attributes) })),
        });
      }
    }
  }
  return out;
}

export function decodeLogs(bytes: Uint8Array): FlatLog[] {
  const req = decodeLogsPlain(bytes);
  const out: FlatLog[] = [];
  for (const rl of req.resourceLogs) {
    const service = String(attrMap(rl.resource?.attributes).get('service.name') ?? '');
    for (const sl of rl.scopeLogs) {
      for (const r of sl.logRecords) {
        out.push({ service, traceId: hex(r.traceId), spanId: hex(r.spanId), severityNumber: r.severityNumber, severityText: r.severityText, body: r.body?.stringValue ?? '' });
      }
    }
  }
  return out;
}

export function encodeTraces(req: Parameters<typeof v1.collector.trace.v1.ExportTraceServiceRequest.encode>[0]): Uint8Array {
  return v1.collector.trace.v1.ExportTraceServiceRequest.encode(req).finish();
}

export function encodeLogs(req: Parameters<typeof v1.collector.logs.v1.ExportLogsServiceRequest.encode>[0]): Uint8Array {
  return v1.collector.logs.v1.ExportLogsServiceRequest.encode(req).finish();
}

export function encodeMetrics(req: Parameters<typeof v1.collector.metrics.v1.ExportMetricsServiceRequest.encode>[0]): Uint8Array {
  return v1.collector.metrics.v1.ExportMetricsServiceRequest.encode(req).finish();
}
