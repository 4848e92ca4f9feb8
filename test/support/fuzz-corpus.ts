/**
 * Valid seed requests for the fuzz tests: the benchmark payloads (bench/payloads.ts), the
 * end-to-end fixtures (test/fixtures.ts), and hand-made ones that set every field somewhere
 * (span events and links, every AnyValue kind, all five metric point types, several services
 * in one request). Also requests carrying an AnyValue nested to a chosen depth at every place
 * an attribute or body can sit.
 */
import { logRequest as benchLogs, metricRequest as benchMetrics, spanRequest as benchSpans } from '../../bench/payloads.ts';
import { encodeRequest, opentelemetry } from '../../src/otlp/index.ts';
import type { Signal } from '../../src/telemetry/signals.ts';
import { gaugeRequest, logRequest, traceRequest } from '../fixtures.ts';
import { ld, nestedAnyValueContent, str } from './fuzz-wire.ts';

export interface Seed {
  signal: Signal;
  label: string;
  bytes: Uint8Array;
}

/** The fixtures stamp Date.now() into timestamps; a fixed clock keeps the seeds, and so each case, reproducible. */
export const FIXED_NOW_MS = 1_750_000_000_000;
function atFixedTime<T>(make: () => T): T {
  const realNow = Date.now;
  Date.now = () => FIXED_NOW_MS;
  try {
    return make();
  } finally {
    Date.now = realNow;
  }
}

// fromObject takes plain JSON-ish values (decimal strings for 64-bit fields, Buffers for bytes) and builds the messages.
const collector = opentelemetry.proto.collector;

const kv = (key: string, value: object) => ({ key, value });
const s = (v: string) => ({ stringValue: v });

/** Every AnyValue kind, nested arrays and kvlists, and awkward strings. */
const RICH_ATTRIBUTES = [
  kv('str', s('GET /api/cart/:id "quoted" \\ é 😀 \u0001')),
  kv('bool', { boolValue: true }),
  kv('int', { intValue: '-9223372036854775808' }),
  kv('double', { doubleValue: -0.25 }),
  kv('bytes', { bytesValue: Buffer.from([0, 1, 0xfe, 0xff]) }),
  kv('array', { arrayValue: { values: [s('a'), { intValue: 1 }, { arrayValue: { values: [{ boolValue: false }] } }] } }),
  kv('kvlist', { kvlistValue: { values: [kv('inner', s('v')), kv('deeper', { kvlistValue: { values: [kv('x', { doubleValue: 1e300 })] } })] } }),
  kv('empty', {}),
  kv('', s('empty key')),
];

const RESOURCE = (service: string) => ({ attributes: [kv('service.name', s(service)), kv('host.name', s('ip-10-0-0-1'))], droppedAttributesCount: 1 });
const SCOPE = { name: 'fuzz', version: '1.0', attributes: [kv('scope.attr', s('x'))], droppedAttributesCount: 2 };
const ID16 = Buffer.from('0102030405060708090a0b0c0d0e0f10', 'hex');
const ID8 = Buffer.from('1112131415161718', 'hex');
const T0 = '1750000000000000000';
const T1 = '1750000000123456789';

function richTraces(): Uint8Array {
  return encodeRequest('traces', collector.trace.v1.ExportTraceServiceRequest.fromObject({
    resourceSpans: [
      {
        resource: RESOURCE('checkout'),
        schemaUrl: 'https://opentelemetry.io/schemas/1.26.0',
        scopeSpans: [
          {
            scope: SCOPE,
            schemaUrl: 'scope-schema',
            spans: [
              {
                traceId: ID16,
                spanId: ID8,
                parentSpanId: ID8,
                traceState: 'vendor=1',
                flags: 0x301,
                name: 'POST /pay',
                kind: 3,
                startTimeUnixNano: T0,
                endTimeUnixNano: T1,
                attributes: RICH_ATTRIBUTES,
                droppedAttributesCount: 3,
                events: [{ timeUnixNano: T1, name: 'exception', attributes: [kv('exception.message', s('boom'))], droppedAttributesCount: 1 }],
                droppedEventsCount: 4,
                links: [{ traceId: ID16, spanId: ID8, traceState: 'l=1', attributes: [kv('link', { intValue: 7 })], droppedAttributesCount: 1, flags: 1 }],
                droppedLinksCount: 5,
                status: { message: 'card declined', code: 2 },
              },
              { traceId: ID16, spanId: Buffer.from('2122232425262728', 'hex'), name: '' },
            ],
          },
        ],
      },
      // A second service, and a resource without service.name (routed as unknown_service).
      { resource: RESOURCE('payments'), scopeSpans: [{ spans: [{ traceId: ID16, spanId: ID8, name: 'charge' }] }] },
      { resource: { attributes: [kv('host.name', s('h'))] }, scopeSpans: [{ spans: [{ name: 'orphan' }] }, {}] },
      {},
    ],
  }));
}

function richLogs(): Uint8Array {
  return encodeRequest('logs', collector.logs.v1.ExportLogsServiceRequest.fromObject({
    resourceLogs: [
      {
        resource: RESOURCE('checkout'),
        schemaUrl: 'r',
        scopeLogs: [
          {
            scope: SCOPE,
            logRecords: [
              {
                timeUnixNano: T0,
                observedTimeUnixNano: T1,
                severityNumber: 17,
                severityText: 'ERROR',
                body: { kvlistValue: { values: [kv('msg', s('payment failed')), kv('amount', { doubleValue: 12.5 })] } },
                attributes: RICH_ATTRIBUTES,
                droppedAttributesCount: 1,
                flags: 1,
                traceId: ID16,
                spanId: ID8,
                eventName: 'payment.failed',
              },
              { body: { bytesValue: Buffer.from('raw') } },
              {},
            ],
          },
        ],
      },
      { resource: RESOURCE('payments'), scopeLogs: [{ logRecords: [{ body: s('ok'), severityNumber: 9 }] }] },
    ],
  }));
}

/** One metric of each of the five point types, with exemplars, and a second service. */
function allPointTypes(): Uint8Array {
  const exemplars = [
    { filteredAttributes: [kv('user', s('u1'))], timeUnixNano: T1, asDouble: 0.5, spanId: ID8, traceId: ID16 },
    { timeUnixNano: T1, asInt: '-42' },
  ];
  return encodeRequest('metrics', collector.metrics.v1.ExportMetricsServiceRequest.fromObject({
    resourceMetrics: [
      {
        resource: RESOURCE('api'),
        scopeMetrics: [
          {
            scope: SCOPE,
            metrics: [
              {
                name: 'queue.depth',
                description: 'items waiting',
                unit: '{item}',
                gauge: { dataPoints: [{ attributes: [kv('q', s('a'))], startTimeUnixNano: T0, timeUnixNano: T1, asDouble: 3.5, exemplars, flags: 1 }, { timeUnixNano: T1, asInt: '-7' }] },
                metadata: [kv('meta', s('m'))],
              },
              { name: 'requests', sum: { dataPoints: [{ startTimeUnixNano: T0, timeUnixNano: T1, asInt: '1234', exemplars }], aggregationTemporality: 2, isMonotonic: true } },
              {
                name: 'latency',
                unit: 'ms',
                histogram: {
                  dataPoints: [
                    { attributes: [kv('route', s('/a'))], startTimeUnixNano: T0, timeUnixNano: T1, count: '10', sum: 0, bucketCounts: ['1', '2', '3', '4'], explicitBounds: [-1.5, 0, 10], exemplars, flags: 0, min: -3, max: 99.5 },
                    { timeUnixNano: T1, count: '0', bucketCounts: [] },
                  ],
                  aggregationTemporality: 1,
                },
              },
              {
                name: 'size',
                exponentialHistogram: {
                  dataPoints: [
                    {
                      attributes: [kv('k', s('v'))],
                      startTimeUnixNano: T0,
                      timeUnixNano: T1,
                      count: '20',
                      sum: -12.5,
                      scale: -3,
                      zeroCount: '2',
                      positive: { offset: 5, bucketCounts: ['1', '0', '300'] },
                      negative: { offset: -4, bucketCounts: ['7', '18446744073709551615'] },
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
                summary: { dataPoints: [{ attributes: [kv('m', s('x'))], startTimeUnixNano: T0, timeUnixNano: T1, count: '5', sum: 17.25, quantileValues: [{ quantile: 0, value: 1 }, { quantile: 0.5, value: 3.5 }, { quantile: 1, value: 9 }], flags: 1 }] },
              },
            ],
            schemaUrl: 'https://opentelemetry.io/schemas/1.21.0',
          },
        ],
      },
      { resource: RESOURCE('worker'), scopeMetrics: [{ metrics: [{ name: 'up', gauge: { dataPoints: [{ asInt: '1' }] } }] }] },
    ],
  }));
}

/** The seeds, per signal; built once (a fixed clock, so the same bytes every run). */
export const SEEDS: readonly Seed[] = atFixedTime(() => [
  { signal: 'traces', label: 'bench spans', bytes: benchSpans(12, 3, 'checkout') },
  { signal: 'traces', label: 'fixture trace', bytes: traceRequest('orders', 'a1b2c3d4e5f60718293a4b5c6d7e8f90', 4, { 'deployment.environment': 'prod' }) },
  { signal: 'traces', label: 'rich traces', bytes: richTraces() },
  { signal: 'traces', label: 'empty request', bytes: new Uint8Array(0) },
  { signal: 'logs', label: 'bench logs', bytes: benchLogs(12, 3, 'checkout') },
  { signal: 'logs', label: 'fixture log', bytes: logRequest('orders', 'payment failed', 'a1b2c3d4e5f60718293a4b5c6d7e8f90') },
  { signal: 'logs', label: 'rich logs', bytes: richLogs() },
  { signal: 'metrics', label: 'bench metrics (sum, gauge)', bytes: benchMetrics(100, 3, 'checkout') },
  { signal: 'metrics', label: 'fixture gauge', bytes: gaugeRequest('orders', 'queue.depth', 4.5) },
  { signal: 'metrics', label: 'all five point types', bytes: allPointTypes() },
]);

export function seedsOf(signal: Signal): Seed[] {
  return SEEDS.filter((seed) => seed.signal === signal);
}

/** Where an AnyValue can sit in a request, as the wrapping around it (AnyValue content -> request bytes). */
type Wrap = (anyValue: number[]) => number[];
/** A KeyValue's content: key 'deep', the AnyValue as its value. */
const kvOf = (v: number[]) => [...str(1, 'deep'), ...ld(2, v)];

const NESTING_SITES: Record<Signal, Record<string, Wrap>> = {
  traces: {
    'resource attribute': (v) => ld(1, ld(1, ld(1, kvOf(v)))),
    'scope attribute': (v) => ld(1, ld(2, ld(1, ld(3, kvOf(v))))),
    'span attribute': (v) => ld(1, ld(2, ld(2, str(5, 'span'), ld(9, kvOf(v))))),
    'event attribute': (v) => ld(1, ld(2, ld(2, ld(11, str(2, 'event'), ld(3, kvOf(v)))))),
    'link attribute': (v) => ld(1, ld(2, ld(2, ld(13, ld(4, kvOf(v)))))),
  },
  logs: {
    'log body': (v) => ld(1, ld(2, ld(2, ld(5, v)))),
    'log attribute': (v) => ld(1, ld(2, ld(2, ld(6, kvOf(v))))),
  },
  metrics: {
    'data point attribute': (v) => ld(1, ld(2, ld(2, str(1, 'm'), ld(5, ld(1, ld(7, kvOf(v))))))),
    'exemplar attribute': (v) => ld(1, ld(2, ld(2, str(1, 'm'), ld(7, ld(1, ld(5, ld(7, kvOf(v)))))))),
    'metric metadata': (v) => ld(1, ld(2, ld(2, str(1, 'm'), ld(12, kvOf(v))))),
  },
};

export interface NestingCase {
  signal: Signal;
  label: string;
  depth: number;
  bytes: Uint8Array;
}

/** A request per signal, site, depth and nesting kind (arrays in arrays, kvlists in kvlists). */
export function nestingCases(depths: readonly number[]): NestingCase[] {
  const out: NestingCase[] = [];
  for (const [signal, sites] of Object.entries(NESTING_SITES) as [Signal, Record<string, Wrap>][]) {
    for (const [site, wrap] of Object.entries(sites)) {
      for (const depth of depths) {
        for (const via of ['array', 'kvlist'] as const) {
          out.push({ signal, label: `${site}, ${via} nested ${depth} deep`, depth, bytes: Uint8Array.from(wrap(nestedAnyValueContent(depth, via))) });
        }
      }
    }
  }
  return out;
}
