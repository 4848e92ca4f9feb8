/** Test helpers: bus records carrying OTLP export requests, each row tagged with a unique `seq` attribute. */
import { opentelemetry } from '../otlp/index.ts';
import type { ProduceRecord } from '../bus/types.ts';
import { HEADER_TENANT } from '../bus/topics.ts';

const collector = opentelemetry.proto.collector;

function seqAttr(seq: number) {
  return [{ key: 'seq', value: { stringValue: String(seq) } }];
}

function nowNs(): string {
  return `${Date.now()}000123`;
}

/** A traces record with `spans` spans, numbered from `firstSeq`. */
export function traceRecord(tenant: string, firstSeq: number, spans: number): ProduceRecord {
  const list = [];
  for (let i = 0; i < spans; i++) {
    const seq = firstSeq + i;
    const id = Buffer.alloc(16);
    id.writeUInt32BE(seq, 12);
    list.push({ traceId: id, spanId: id.subarray(8), name: `op-${seq % 5}`, kind: 2, startTimeUnixNano: nowNs(), endTimeUnixNano: nowNs(), attributes: seqAttr(seq) });
  }
  const msg = collector.trace.v1.ExportTraceServiceRequest.fromObject({
    resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'svc' } }] }, scopeSpans: [{ spans: list }] }],
  });
  return { key: Buffer.from(tenant), value: Buffer.from(collector.trace.v1.ExportTraceServiceRequest.encode(msg).finish()), headers: { [HEADER_TENANT]: tenant } };
}

/** A logs record with `logs` log records, numbered from `firstSeq`. */
export function logRecord(tenant: string, firstSeq: number, logs: number): ProduceRecord {
  const list = [];
  for (let i = 0; i < logs; i++) list.push({ timeUnixNano: nowNs(), severityNumber: 9, body: { stringValue: `line ${firstSeq + i}` }, attributes: seqAttr(firstSeq + i) });
  const msg = collector.logs.v1.ExportLogsServiceRequest.fromObject({ resourceLogs: [{ scopeLogs: [{ logRecords: list }] }] });
  return { key: Buffer.from(tenant), value: Buffer.from(collector.logs.v1.ExportLogsServiceRequest.encode(msg).finish()), headers: { [HEADER_TENANT]: tenant } };
}

/** A metrics record with one gauge point and one sum point per seq, numbered from `firstSeq`. */
export function metricRecord(tenant: string, firstSeq: number, points: number): ProduceRecord {
  const gauge = [];
  const sum = [];
  for (let i = 0; i < points; i++) {
    gauge.push({ timeUnixNano: nowNs(), asDouble: i, attributes: seqAttr(firstSeq + i) });
    sum.push({ timeUnixNano: nowNs(), asInt: i, attributes: seqAttr(firstSeq + i) });
  }
  const msg = collector.metrics.v1.ExportMetricsServiceRequest.fromObject({
    resourceMetrics: [{ scopeMetrics: [{ metrics: [{ name: 'g', gauge: { dataPoints: gauge } }, { name: 's', sum: { dataPoints: sum, isMonotonic: true, aggregationTemporality: 2 } }] }] }],
  });
  return { key: Buffer.from(tenant), value: Buffer.from(collector.metrics.v1.ExportMetricsServiceRequest.encode(msg).finish()), headers: { [HEADER_TENANT]: tenant } };
}

/** Polls `check` until it returns true or the deadline passes. */
export async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
