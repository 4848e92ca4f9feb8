/**
 * Deterministic OTLP requests for the codec tests and the routing benchmark: every field of every
 * signal is set somewhere, including all five metric point types.
 */
import $protobuf from 'protobufjs/minimal.js';
import type { opentelemetry } from './generated/otlp.js';

type TraceReq = opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest.$Properties;
type MetricsReq = opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest.$Properties;
type LogsReq = opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest.$Properties;
type KeyValue = opentelemetry.proto.common.v1.KeyValue.$Properties;
type Span = opentelemetry.proto.trace.v1.Span.$Properties;

interface LongClass {
  fromString(s: string, unsigned: boolean): never;
}
const Long = $protobuf.util.Long as unknown as LongClass;
/** A 64-bit value from its decimal string (timestamps do not fit in a double). */
export const u64 = (s: string) => Long.fromString(s, true);
export const i64 = (s: string) => Long.fromString(s, false);

/** mulberry32: a tiny seeded PRNG so fuzz iterations are reproducible. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function bytesOf(...values: number[]): Uint8Array {
  return Uint8Array.from(values);
}

function id(len: number, seed: number): Uint8Array {
  const out = new Uint8Array(len);
  for (let i = 0; i < len; i++) out[i] = (seed * 31 + i * 17 + 1) & 0xff;
  return out;
}

const str = (key: string, value: string): KeyValue => ({ key, value: { stringValue: value } });

/** Attributes using every AnyValue kind, nested arrays and kvlists included. */
export function richAttributes(): KeyValue[] {
  return [
    str('http.method', 'GET'),
    { key: 'ok', value: { boolValue: true } },
    { key: 'no', value: { boolValue: false } },
    { key: 'count', value: { intValue: i64('-9007199254740993') } },
    { key: 'zero', value: { intValue: 0 } },
    { key: 'ratio', value: { doubleValue: -0.25 } },
    { key: 'blob', value: { bytesValue: bytesOf(0, 1, 2, 250, 255) } },
    { key: 'empty', value: { stringValue: '' } },
    {
      key: 'list',
      value: { arrayValue: { values: [{ stringValue: 'a' }, { intValue: 7 }, { arrayValue: { values: [{ doubleValue: 1.5 }] } }] } },
    },
    {
      key: 'map',
      value: { kvlistValue: { values: [str('inner', 'x'), { key: 'deep', value: { kvlistValue: { values: [{ key: 'n', value: { boolValue: true } }] } } }] } },
    },
    { key: 'unset', value: {} },
  ];
}

function resource(service: string | undefined) {
  return {
    attributes: [...(service === undefined ? [] : [str('service.name', service)]), str('host.name', 'web-1'), ...richAttributes()],
    droppedAttributesCount: 2,
    entityRefs: [{ schemaUrl: 'https://example.com/s', type: 'service', idKeys: ['service.name'], descriptionKeys: ['host.name', 'x'] }],
  };
}

const scope = { name: 'io.opentelemetry.test', version: '1.2.3', attributes: [str('scope.attr', 'v')], droppedAttributesCount: 1 };

export function sampleSpan(i: number): Span {
  return {
    traceId: id(16, i),
    spanId: id(8, i + 100),
    traceState: 'vendor=value',
    parentSpanId: id(8, i + 200),
    flags: 0x301,
    name: `GET /items/${i}`,
    kind: 2,
    startTimeUnixNano: u64('1700000000123456789'),
    endTimeUnixNano: u64('1700000000223456789'),
    attributes: richAttributes(),
    droppedAttributesCount: 3,
    events: [{ timeUnixNano: u64('1700000000150000000'), name: 'exception', attributes: [str('exception.type', 'Error')], droppedAttributesCount: 1 }],
    droppedEventsCount: 4,
    links: [{ traceId: id(16, i + 300), spanId: id(8, i + 400), traceState: 'a=b', attributes: [str('l', '1')], droppedAttributesCount: 5, flags: 1 }],
    droppedLinksCount: 6,
    status: { message: 'boom', code: 2 },
  };
}

export function sampleTraces(): TraceReq {
  return {
    resourceSpans: [
      {
        resource: resource('checkout'),
        scopeSpans: [
          { scope, spans: [sampleSpan(1), sampleSpan(2)], schemaUrl: 'https://opentelemetry.io/schemas/1.21.0' },
          { spans: [{ traceId: id(16, 9), spanId: id(8, 9), name: 'minimal' }] },
        ],
        schemaUrl: 'https://opentelemetry.io/schemas/1.21.0',
      },
      { resource: resource('cart'), scopeSpans: [{ scope, spans: [sampleSpan(3)] }] },
      { resource: resource(undefined), scopeSpans: [{ spans: [sampleSpan(4), sampleSpan(5), sampleSpan(6)] }] },
    ],
  };
}

export function sampleLogs(): LogsReq {
  return {
    resourceLogs: [
      {
        resource: resource('billing'),
        scopeLogs: [
          {
            scope,
            logRecords: [
              {
                timeUnixNano: u64('1700000000000000001'),
                observedTimeUnixNano: u64('1700000000000000002'),
                severityNumber: 17,
                severityText: 'ERROR',
                body: { kvlistValue: { values: [str('msg', 'payment failed'), { key: 'code', value: { intValue: 402 } }] } },
                attributes: richAttributes(),
                droppedAttributesCount: 1,
                flags: 1,
                traceId: id(16, 50),
                spanId: id(8, 51),
                eventName: 'payment.failed',
              },
              { body: { stringValue: 'plain line' }, severityNumber: 9 },
            ],
            schemaUrl: 'https://opentelemetry.io/schemas/1.21.0',
          },
        ],
        schemaUrl: 'https://opentelemetry.io/schemas/1.21.0',
      },
      { resource: resource('billing'), scopeLogs: [{ logRecords: [{ body: { bytesValue: bytesOf(1, 2, 3) } }] }] },
    ],
  };
}

const exemplars = [
  { filteredAttributes: [str('user', 'u1')], timeUnixNano: u64('1700000000000000010'), asDouble: 0.5, spanId: id(8, 60), traceId: id(16, 61) },
  { timeUnixNano: u64('1700000000000000011'), asInt: i64('-42') },
];

/** One metric of each of the five types (gauge has two points, one double and one int). */
export function sampleMetrics(): MetricsReq {
  const t0 = u64('1700000000000000000');
  const t1 = u64('1700000060000000000');
  return {
    resourceMetrics: [
      {
        resource: resource('api'),
        scopeMetrics: [
          {
            scope,
            metrics: [
              {
                name: 'queue.depth',
                description: 'items waiting',
                unit: '{item}',
                gauge: {
                  dataPoints: [
                    { attributes: [str('q', 'a')], startTimeUnixNano: t0, timeUnixNano: t1, asDouble: 3.5, exemplars, flags: 1 },
                    { timeUnixNano: t1, asInt: i64('-7') },
                  ],
                },
                metadata: [str('meta', 'm')],
              },
              {
                name: 'requests',
                sum: { dataPoints: [{ startTimeUnixNano: t0, timeUnixNano: t1, asInt: 1234, exemplars }], aggregationTemporality: 2, isMonotonic: true },
              },
              {
                name: 'latency',
                unit: 'ms',
                histogram: {
                  dataPoints: [
                    {
                      attributes: [str('route', '/a')],
                      startTimeUnixNano: t0,
                      timeUnixNano: t1,
                      count: 10,
                      sum: 0,
                      bucketCounts: [1, 2, 3, 4],
                      explicitBounds: [-1.5, 0, 10],
                      exemplars,
                      flags: 0,
                      min: -3,
                      max: 99.5,
                    },
                    { timeUnixNano: t1, count: 0, bucketCounts: [] },
                  ],
                  aggregationTemporality: 1,
                },
              },
              {
                name: 'size',
                exponentialHistogram: {
                  dataPoints: [
                    {
                      attributes: [str('k', 'v')],
                      startTimeUnixNano: t0,
                      timeUnixNano: t1,
                      count: 20,
                      sum: -12.5,
                      scale: -3,
                      zeroCount: 2,
                      positive: { offset: 5, bucketCounts: [1, 0, 300] },
                      negative: { offset: -4, bucketCounts: [7, u64('18446744073709551615')] },
                      flags: 1,
                      exemplars,
                      min: -100,
                      max: 1e300,
                      zeroThreshold: 1e-9,
                    },
                  ],
                  aggregationTemporality: 2,
                },
              },
              {
                name: 'rpc.duration',
                summary: {
                  dataPoints: [
                    {
                      attributes: [str('m', 'x')],
                      startTimeUnixNano: t0,
                      timeUnixNano: t1,
                      count: 5,
                      sum: 17.25,
                      quantileValues: [
                        { quantile: 0, value: 1 },
                        { quantile: 0.5, value: 3.5 },
                        { quantile: 1, value: 9 },
                      ],
                      flags: 1,
                    },
                  ],
                },
              },
            ],
            schemaUrl: 'https://opentelemetry.io/schemas/1.21.0',
          },
        ],
      },
      { resource: resource('worker'), scopeMetrics: [{ metrics: [{ name: 'up', gauge: { dataPoints: [{ asInt: 1 }] } }] }] },
    ],
  };
}

/** A realistic trace export: `spans` spans of ~10 string/int attributes across `services` resources. */
export function largeTraces(spans: number, services = 1): TraceReq {
  const random = seededRandom(spans * 7 + services);
  const perService = Math.ceil(spans / services);
  const resourceSpans = [];
  for (let s = 0; s < services; s++) {
    const list: Span[] = [];
    for (let i = 0; i < perService && s * perService + i < spans; i++) {
      const n = s * perService + i;
      list.push({
        traceId: id(16, n >> 3),
        spanId: id(8, n),
        parentSpanId: i % 8 === 0 ? undefined : id(8, n - 1),
        name: `HTTP GET /api/v1/orders/${n % 50}`,
        kind: 2,
        startTimeUnixNano: u64(String(1700000000000000000n + BigInt(n) * 1000n)),
        endTimeUnixNano: u64(String(1700000000000000000n + BigInt(n) * 1000n + BigInt(Math.floor(random() * 1e6)))),
        attributes: [
          str('http.method', 'GET'),
          str('http.route', '/api/v1/orders/:id'),
          str('http.url', `https://shop.example.com/api/v1/orders/${n}`),
          { key: 'http.status_code', value: { intValue: 200 } },
          str('net.peer.name', '10.0.0.12'),
          { key: 'net.peer.port', value: { intValue: 443 } },
          str('user_agent.original', 'Mozilla/5.0 (X11; Linux x86_64)'),
          str('db.system', 'postgresql'),
          { key: 'retry', value: { boolValue: false } },
          { key: 'payload.size', value: { doubleValue: random() * 4096 } },
        ],
        status: { code: 1 },
      });
    }
    resourceSpans.push({
      resource: { attributes: [str('service.name', `service-${s}`), str('service.version', '1.4.2'), str('host.name', `host-${s}`)] },
      scopeSpans: [{ scope: { name: '@opentelemetry/instrumentation-http', version: '0.50.0' }, spans: list }],
    });
  }
  return { resourceSpans };
}
