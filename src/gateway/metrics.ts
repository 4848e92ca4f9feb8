import { Counter, Histogram, type Registry } from 'prom-client';

export interface GatewayMetrics {
  requests: Counter<'signal' | 'code'>;
  items: Counter<'signal'>;
  bytes: Counter<'signal'>;
  duration: Histogram<'signal'>;
}

export function createGatewayMetrics(registry: Registry): GatewayMetrics {
  return {
    requests: new Counter({
      name: 'ollystack_gateway_requests_total',
      help: 'OTLP export requests by signal and HTTP status code',
      labelNames: ['signal', 'code'],
      registers: [registry],
    }),
    items: new Counter({
      name: 'ollystack_gateway_received_items_total',
      help: 'Spans, log records and metric data points accepted (acknowledged by the bus)',
      labelNames: ['signal'],
      registers: [registry],
    }),
    bytes: new Counter({
      name: 'ollystack_gateway_received_bytes_total',
      help: 'Request body bytes received, before decompression',
      labelNames: ['signal'],
      registers: [registry],
    }),
    duration: new Histogram({
      name: 'ollystack_gateway_request_duration_seconds',
      help: 'OTLP export request latency, including the bus acknowledgement',
      labelNames: ['signal'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
  };
}
