/**
 * Self-metrics of the OTLP/gRPC receiver, beside the OTLP/HTTP receiver's (metrics.ts) under
 * their own names: both receivers register on one registry in one process, and the status
 * label is a gRPC code name here, an HTTP status there.
 */
import { Counter, Histogram, type Registry } from 'prom-client';
import type { GrpcCallReport } from './grpc-h2-server.ts';

/** The canonical gRPC code names, the `code` label's values (as grpc-js's status enum spells them). */
const CODE_NAMES = [
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
];

export function grpcCodeName(code: number): string {
  return CODE_NAMES[code] ?? String(code);
}

export interface GrpcReceiverMetrics {
  requests: Counter<'signal' | 'code'>;
  items: Counter<'signal'>;
  bytes: Counter<'signal'>;
  duration: Histogram<'signal'>;
}

export function createGrpcReceiverMetrics(registry: Registry): GrpcReceiverMetrics {
  return {
    requests: new Counter({
      name: 'ollystack_gateway_grpc_requests_total',
      help: 'OTLP/gRPC export calls by signal and gRPC status code name, refusals of framing, size and encoding included',
      labelNames: ['signal', 'code'],
      registers: [registry],
    }),
    items: new Counter({
      name: 'ollystack_gateway_grpc_received_items_total',
      help: 'Spans, log records and metric data points accepted over OTLP/gRPC (acknowledged by the bus)',
      labelNames: ['signal'],
      registers: [registry],
    }),
    bytes: new Counter({
      name: 'ollystack_gateway_grpc_received_bytes_total',
      help: 'OTLP/gRPC request message bytes of authenticated calls, after decompression',
      labelNames: ['signal'],
      registers: [registry],
    }),
    duration: new Histogram({
      name: 'ollystack_gateway_grpc_request_duration_seconds',
      help: 'OTLP/gRPC export latency from the whole message received to the answer, including the bus acknowledgement',
      labelNames: ['signal'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
  };
}

/** Records one answered call, as grpc-h2-server.ts reports it. */
export function recordGrpcCall(metrics: GrpcReceiverMetrics, report: GrpcCallReport): void {
  const { signal } = report;
  metrics.requests.inc({ signal, code: grpcCodeName(report.code) });
  if (report.bytes !== undefined) metrics.bytes.inc({ signal }, report.bytes);
  if (report.accepted !== undefined) metrics.items.inc({ signal }, report.accepted);
  if (report.seconds !== undefined) metrics.duration.observe({ signal }, report.seconds);
}
