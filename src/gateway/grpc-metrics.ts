/**
 * Self-metrics of the OTLP/gRPC receiver, beside the OTLP/HTTP receiver's (metrics.ts) under
 * their own names: both receivers register on one registry in one process, and the status
 * label is a gRPC code name here, an HTTP status there.
 */
import { Counter, Histogram, type Registry } from 'prom-client';

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
      help: 'OTLP/gRPC export calls by signal and gRPC status code name (refusals by grpc-js itself, e.g. oversize messages, are not counted)',
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
