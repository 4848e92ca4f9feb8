/** Realistic OTLP export bodies for benchmarks: the shape an SDK sends, ~10 attributes per item. */
import { opentelemetry } from '../src/otlp/index.ts';
import type { Signal } from '../src/telemetry/signals.ts';

const c = opentelemetry.proto.collector;

function kv(key: string, v: string | number) {
  return { key, value: typeof v === 'string' ? { stringValue: v } : { intValue: v } };
}

function resource(service: string) {
  return {
    attributes: [kv('service.name', service), kv('service.version', '1.4.2'), kv('deployment.environment', 'prod'), kv('host.name', 'ip-10-0-3-17'), kv('telemetry.sdk.language', 'nodejs')],
  };
}

function hex(n: number, bytes: number): Buffer {
  const b = Buffer.alloc(bytes);
  b.writeUInt32BE(n >>> 0, bytes - 4);
  b.writeUInt32BE(0x9e3779b9, 0);
  return b;
}

type KeyValue = ReturnType<typeof kv>;

/** A trace export of `spans` spans (traces of 10: a server span and its 9 client spans), each with the attributes given. */
function traceRequest(spans: number, seed: number, service: string, attributes: (i: number) => KeyValue[]): Uint8Array {
  const start = BigInt(Date.now()) * 1_000_000n;
  const list = [];
  for (let i = 0; i < spans; i++) {
    const t = start + BigInt(i) * 1000n;
    list.push({
      traceId: hex(seed * 100_000 + Math.floor(i / 10), 16),
      spanId: hex(seed * 1_000_000 + i, 8),
      parentSpanId: i % 10 === 0 ? undefined : hex(seed * 1_000_000 + i - (i % 10), 8),
      name: i % 10 === 0 ? 'POST /api/checkout' : `SELECT orders ${i % 10}`,
      kind: i % 10 === 0 ? 2 : 3,
      startTimeUnixNano: t.toString(),
      endTimeUnixNano: (t + 1_250_000n).toString(),
      attributes: attributes(i),
      status: { code: 0 },
    });
  }
  return c.trace.v1.ExportTraceServiceRequest.encode(
    c.trace.v1.ExportTraceServiceRequest.fromObject({ resourceSpans: [{ resource: resource(service), scopeSpans: [{ scope: { name: '@opentelemetry/instrumentation-http', version: '0.57.0' }, spans: list }] }] }),
  ).finish();
}

/** Spans as an instrumented HTTP/database SDK sends them: ten attributes, about 440 bytes each. */
export function spanRequest(spans: number, seed = 1, service = 'checkout'): Uint8Array {
  return traceRequest(spans, seed, service, (i) => [
    kv('http.request.method', 'POST'),
    kv('http.route', '/api/checkout'),
    kv('http.response.status_code', 200),
    kv('url.path', `/api/checkout/${i}`),
    kv('server.address', 'checkout.internal'),
    kv('network.peer.address', '10.0.3.44'),
    kv('user_agent.original', 'Mozilla/5.0 (X11; Linux x86_64)'),
    kv('db.system', 'postgresql'),
    kv('db.statement', 'SELECT * FROM orders WHERE id = $1'),
    kv('thread.id', i % 16),
  ]);
}

const LEAN_ATTRIBUTES = [kv('http.request.method', 'POST'), kv('http.response.status_code', 200)];

/**
 * Spans with two attributes, about 145 bytes each: the size at which a no-op Node server takes
 * about 9 million spans/s of 500-span requests on the 2-core machine (issue 2's calibration
 * of the gateway target), where spanRequest's ten attributes make about 440 bytes.
 */
export function leanSpanRequest(spans: number, seed = 1, service = 'checkout'): Uint8Array {
  return traceRequest(spans, seed, service, () => LEAN_ATTRIBUTES);
}

export function logRequest(records: number, seed = 1, service = 'checkout'): Uint8Array {
  const now = BigInt(Date.now()) * 1_000_000n;
  const list = [];
  for (let i = 0; i < records; i++) {
    list.push({
      timeUnixNano: (now + BigInt(i)).toString(),
      observedTimeUnixNano: (now + BigInt(i)).toString(),
      severityNumber: 9,
      severityText: 'INFO',
      body: { stringValue: `order ${seed}-${i} placed by customer ${i % 977} total 42.10 EUR in 12 ms` },
      traceId: hex(seed * 100_000 + i, 16),
      spanId: hex(seed * 1_000_000 + i, 8),
      attributes: [kv('logger.name', 'checkout.orders'), kv('code.function', 'placeOrder'), kv('customer.id', i % 977), kv('order.items', 3), kv('region', 'eu-west-1')],
    });
  }
  return c.logs.v1.ExportLogsServiceRequest.encode(
    c.logs.v1.ExportLogsServiceRequest.fromObject({ resourceLogs: [{ resource: resource(service), scopeLogs: [{ scope: { name: 'pino' }, logRecords: list }] }] }),
  ).finish();
}

export function metricRequest(points: number, seed = 1, service = 'checkout'): Uint8Array {
  const now = BigInt(Date.now()) * 1_000_000n;
  const perMetric = 50;
  const metrics = [];
  for (let m = 0; m < points / perMetric; m++) {
    const dataPoints = [];
    for (let i = 0; i < perMetric; i++) {
      dataPoints.push({
        attributes: [kv('http.route', `/api/r${i % 25}`), kv('http.response.status_code', i % 2 ? 200 : 500), kv('instance', `i-${seed}`)],
        startTimeUnixNano: (now - 60_000_000_000n).toString(),
        timeUnixNano: now.toString(),
        asDouble: i * 1.5 + m,
      });
    }
    metrics.push(m % 2 === 0 ? { name: `http.server.metric${m}`, unit: '1', sum: { dataPoints, aggregationTemporality: 2, isMonotonic: true } } : { name: `process.metric${m}`, unit: 'By', gauge: { dataPoints } });
  }
  return c.metrics.v1.ExportMetricsServiceRequest.encode(
    c.metrics.v1.ExportMetricsServiceRequest.fromObject({ resourceMetrics: [{ resource: resource(service), scopeMetrics: [{ scope: { name: 'bench' }, metrics }] }] }),
  ).finish();
}

/** The load generators' payloads: a signal, or `traces:lean` for leanSpanRequest. */
export function payloadFor(signal: Signal | 'traces:lean', items: number, seed = 1, service = 'checkout'): Uint8Array {
  if (signal === 'traces:lean') return leanSpanRequest(items, seed, service);
  return signal === 'traces' ? spanRequest(items, seed, service) : signal === 'logs' ? logRequest(items, seed, service) : metricRequest(items, seed, service);
}

/** A small fleet: the services a load generator rotates through, one per request. */
export const BENCH_SERVICES = ['frontend', 'checkout', 'payments', 'inventory', 'shipping', 'recommendations', 'search', 'accounts'];
