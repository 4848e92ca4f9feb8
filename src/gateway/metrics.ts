import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { InflightBudget } from './admission/index.ts';

/** The OTLP/HTTP receiver's request metrics (names kept: bench/run.ts and the e2e tests read them). */
export interface GatewayMetrics {
  requests: Counter<'signal' | 'code'>;
  items: Counter<'signal'>;
  bytes: Counter<'signal'>;
  duration: Histogram<'signal'>;
}

export type ItemOutcome = 'accepted' | 'rejected' | 'throttled';

/** Per-tenant counts of the ingest pipeline, whatever the transport. */
export interface TenantIngestMetrics {
  items: Counter<'tenant' | 'signal' | 'outcome'>;
  throttledRequests: Counter<'tenant' | 'signal' | 'limit'>;
}

// One set per registry: the HTTP and gRPC receivers (and their pipelines) of one process share
// one registry, and prom-client refuses a second registration of a name.
const httpMetrics = new WeakMap<Registry, GatewayMetrics>();
const tenantMetrics = new WeakMap<Registry, TenantIngestMetrics>();
const budgets = new WeakMap<Registry, Set<InflightBudget>>();

export function createGatewayMetrics(registry: Registry): GatewayMetrics {
  let m = httpMetrics.get(registry);
  if (m !== undefined) return m;
  m = {
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
  httpMetrics.set(registry, m);
  return m;
}

export function tenantIngestMetrics(registry: Registry): TenantIngestMetrics {
  let m = tenantMetrics.get(registry);
  if (m !== undefined) return m;
  m = {
    // Tenants come from API keys, so the label's values are as many as the key store's tenants.
    items: new Counter({
      name: 'ollystack_gateway_tenant_items_total',
      help: 'Items (spans, log records, data points) per tenant and signal: accepted (on the bus), rejected (refused one by one), throttled (refused by the events/s limit)',
      labelNames: ['tenant', 'signal', 'outcome'],
      registers: [registry],
    }),
    throttledRequests: new Counter({
      name: 'ollystack_gateway_throttled_requests_total',
      help: 'Export requests refused by a tenant rate limit, by the limit hit (events or bytes)',
      labelNames: ['tenant', 'signal', 'limit'],
      registers: [registry],
    }),
  };
  tenantMetrics.set(registry, m);
  return m;
}

/** Shows the budget in `ollystack_gateway_inflight_bytes` (summed over the budgets tracked). */
export function trackInflightBytes(registry: Registry, budget: InflightBudget): void {
  let set = budgets.get(registry);
  if (set === undefined) {
    const tracked = new Set<InflightBudget>();
    set = tracked;
    budgets.set(registry, tracked);
    const gauge = new Gauge({
      name: 'ollystack_gateway_inflight_bytes',
      help: 'Request bytes being received or processed now (bounded by gateway.maxInflightBytes)',
      registers: [registry],
      collect() {
        let sum = 0;
        for (const b of tracked) sum += b.inUse();
        this.set(sum);
      },
    });
    gauge.set(0);
  }
  set.add(budget);
}
