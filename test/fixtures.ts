import { opentelemetry } from '../src/otlp/index.ts';

const v1 = opentelemetry.proto.collector;

function attrs(obj: Record<string, string | number | boolean>) {
  return Object.entries(obj).map(([key, v]) => ({
    key,
    value: typeof v === 'string' ? { stringValue: v } : typeof v === 'boolean' ? { boolValue: v } : Number.isInteger(v) ? { intValue: v } : { doubleValue: v },
  }));
}

export function nowNanos(offsetMs = 0): string {
  return (BigInt(Date.now() + offsetMs) * 1_000_000n).toString();
}

/** One trace of `spans` spans (a root and its children) from one service. */
export function traceRequest(service: string, traceIdHex: string, spans: number, extraResource: Record<string, string> = {}): Uint8Array {
  const traceId = Buffer.from(traceIdHex, 'hex');
  const start = BigInt(Date.now() - 1000) * 1_000_000n;
  const list = [];
  for (let i = 0; i < spans; i++) {
    const spanId = Buffer.alloc(8);
    spanId.writeUInt32BE(i + 1, 4);
    traceId.copy(spanId, 0, 0, 4);
    list.push({
      traceId,
      spanId,
      parentSpanId: i === 0 ? undefined : Buffer.concat([traceId.subarray(0, 4), Buffer.from([0, 0, 0, 1])]),
      name: i === 0 ? 'GET /orders' : `step ${i}`,
      kind: i === 0 ? 2 : 1,
      startTimeUnixNano: (start + BigInt(i) * 1000n).toString(),
      endTimeUnixNano: (start + 5_000_000n + BigInt(i) * 1000n).toString(),
      attributes: attrs({ 'span.index': i }),
      status: { code: i === 0 ? 1 : 0 },
    });
  }
  return v1.trace.v1.ExportTraceServiceRequest.encode(
    v1.trace.v1.ExportTraceServiceRequest.fromObject({
      resourceSpans: [{ resource: { attributes: attrs({ 'service.name': service, ...extraResource }) }, scopeSpans: [{ scope: { name: 'fixture' }, spans: list }] }],
    }),
  ).finish();
}

export function logRequest(service: string, body: string, traceIdHex = '', extraResource: Record<string, string> = {}): Uint8Array {
  return v1.logs.v1.ExportLogsServiceRequest.encode(
    v1.logs.v1.ExportLogsServiceRequest.fromObject({
      resourceLogs: [
        {
          resource: { attributes: attrs({ 'service.name': service, ...extraResource }) },
          scopeLogs: [{ logRecords: [{ timeUnixNano: nowNanos(), severityNumber: 17, severityText: 'ERROR', body: { stringValue: body }, traceId: traceIdHex ? Buffer.from(traceIdHex, 'hex') : undefined }] }],
        },
      ],
    }),
  ).finish();
}

export function gaugeRequest(service: string, name: string, value: number, extraResource: Record<string, string> = {}): Uint8Array {
  return v1.metrics.v1.ExportMetricsServiceRequest.encode(
    v1.metrics.v1.ExportMetricsServiceRequest.fromObject({
      resourceMetrics: [
        {
          resource: { attributes: attrs({ 'service.name': service, ...extraResource }) },
          scopeMetrics: [{ metrics: [{ name, gauge: { dataPoints: [{ timeUnixNano: nowNanos(), asDouble: value }] } }] }],
        },
      ],
    }),
  ).finish();
}

export async function post(gateway: string, path: string, key: string, body: Uint8Array, contentType = 'application/x-protobuf'): Promise<Response> {
  return fetch(gateway + path, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': contentType }, body });
}
