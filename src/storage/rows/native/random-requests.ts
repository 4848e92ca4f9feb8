/**
 * Test support: seeded random OTLP Export requests for the differential tests. Every field is
 * present or absent at random; attribute values of every AnyValue kind (nested arrays and
 * kvlists, bytes, int64 limits, NaN, infinities, -0), strings with escapes, unicode and
 * multi-byte lengths, duplicate and `__proto__` keys, events, links, exemplars and all five
 * metric point types.
 */
import type { ExportRequestPropertiesBySignal } from '../../../otlp/index.ts';
import { i64, u64 } from '../../../otlp/fixtures.ts';

type Rand = () => number;

const PIECES = ['a', 'Zz', ' ', 'é', 'ü', '😀', '中文', '"', '\\', '\n', '\t', '\u0001', '\u2028', '/', 'GET /api/cart/:id', 'SELECT 1'];
const KEYS = ['service.name', 'http.method', 'http.route', 'dup', 'dup', '__proto__', '', 'ключ', 'k"\\', '1', 'x'.repeat(200), 'seq'];
const INT64S = ['0', '1', '-1', '42', '2147483647', '2147483648', '-2147483649', '9007199254740993', '9223372036854775807', '-9223372036854775808'];
const DOUBLES = [0, -0, 1.5, -0.25, 1e21, 5e-324, 1e300, NaN, Infinity, -Infinity, 0.1 + 0.2];
const U64S = ['0', '1', '1700000000123456789', '1736000000000000000', '9223372036854775807', '9223372036854775808', '18446744073709551615'];

export class RandomRequests {
  readonly #rand: Rand;

  constructor(rand: Rand) {
    this.#rand = rand;
  }

  int(n: number): number {
    return Math.floor(this.#rand() * n);
  }

  chance(p: number): boolean {
    return this.#rand() < p;
  }

  pick<T>(list: readonly T[]): T {
    return list[this.int(list.length)];
  }

  /** Up to `max` items made by `make`. */
  list<T>(max: number, make: (i: number) => T): T[] {
    return Array.from({ length: this.int(max + 1) }, (_, i) => make(i));
  }

  string(): string {
    if (this.chance(0.1)) return '';
    // Sometimes long enough to need a multi-byte length on the wire and in the Native String.
    const parts = this.chance(0.1) ? 60 : 1 + this.int(5);
    let s = '';
    for (let i = 0; i < parts; i++) s += this.pick(PIECES);
    return s;
  }

  bytes(maxLen: number): Uint8Array {
    return Uint8Array.from({ length: this.int(maxLen + 1) }, () => this.int(256));
  }

  /** A trace or span id: usually the real width, sometimes another. */
  id(width: number): Uint8Array | undefined {
    if (this.chance(0.15)) return undefined;
    return this.chance(0.85) ? Uint8Array.from({ length: width }, () => this.int(256)) : this.bytes(20);
  }

  time() {
    if (this.chance(0.15)) return undefined;
    return this.chance(0.6) ? u64(String(1_700_000_000_000_000_000n + BigInt(this.int(1e9)) * 1000n + BigInt(this.int(1000)))) : u64(this.pick(U64S));
  }

  anyValue(depth = 0): object {
    switch (this.int(depth < 2 ? 9 : 7)) {
      case 0:
      case 1:
        return { stringValue: this.string() };
      case 2:
        return { boolValue: this.chance(0.5) };
      case 3:
        return { intValue: this.chance(0.5) ? this.int(100000) : i64(this.pick(INT64S)) };
      case 4:
        return { doubleValue: this.chance(0.5) ? this.pick(DOUBLES) : (this.#rand() - 0.5) * 10 ** this.int(30) };
      case 5:
        return { bytesValue: this.bytes(12) };
      case 6:
        return {};
      case 7:
        return { arrayValue: { values: this.list(3, () => this.anyValue(depth + 1)) } };
      default:
        return { kvlistValue: { values: this.list(3, () => this.keyValue(depth + 1)) } };
    }
  }

  keyValue(depth = 0): object {
    const key = this.chance(0.5) ? this.pick(KEYS) : this.string();
    if (this.chance(0.05)) return { key };
    return { key, value: this.anyValue(depth) };
  }

  attributes(max = 6): object[] | undefined {
    return this.chance(0.2) ? undefined : this.list(max, () => this.keyValue());
  }

  resource(): object | undefined {
    if (this.chance(0.15)) return undefined;
    const attributes = this.attributes() ?? [];
    if (this.chance(0.7)) attributes.push({ key: 'service.name', value: this.chance(0.8) ? { stringValue: this.pick(['checkout', 'cart', '', 'ünïcode']) } : this.anyValue() });
    return { attributes, droppedAttributesCount: this.chance(0.2) ? this.int(5) : undefined };
  }

  scope(): object | undefined {
    if (this.chance(0.2)) return undefined;
    return {
      name: this.chance(0.8) ? this.string() : undefined,
      version: this.chance(0.5) ? this.string() : undefined,
      attributes: this.attributes(3),
      droppedAttributesCount: this.chance(0.3) ? this.pick([0, 1, 4294967295]) : undefined,
    };
  }

  schemaUrl(): string | undefined {
    return this.chance(0.3) ? this.pick(['https://opentelemetry.io/schemas/1.21.0', 'é"\\', '']) : undefined;
  }

  traces(): ExportRequestPropertiesBySignal['traces'] {
    return {
      resourceSpans: this.list(3, () => ({
        resource: this.resource(),
        schemaUrl: this.schemaUrl(),
        scopeSpans: this.list(3, () => ({ scope: this.scope(), schemaUrl: this.schemaUrl(), spans: this.list(5, () => this.span()) })),
      })),
    };
  }

  span(): object {
    return {
      traceId: this.id(16),
      spanId: this.id(8),
      parentSpanId: this.chance(0.5) ? this.id(8) : undefined,
      traceState: this.chance(0.3) ? this.string() : undefined,
      name: this.chance(0.9) ? this.string() : undefined,
      kind: this.chance(0.9) ? this.int(8) : undefined,
      startTimeUnixNano: this.time(),
      endTimeUnixNano: this.time(),
      attributes: this.attributes(8),
      events: this.chance(0.5)
        ? this.list(3, () => ({ timeUnixNano: this.time(), name: this.chance(0.8) ? this.string() : undefined, attributes: this.attributes(3) }))
        : undefined,
      links: this.chance(0.4)
        ? this.list(3, () => ({ traceId: this.id(16), spanId: this.id(8), traceState: this.chance(0.5) ? this.string() : undefined, attributes: this.attributes(3) }))
        : undefined,
      status: this.chance(0.6) ? { code: this.chance(0.9) ? this.int(3) : 7, message: this.chance(0.5) ? this.string() : undefined } : undefined,
    };
  }

  logs(): ExportRequestPropertiesBySignal['logs'] {
    return {
      resourceLogs: this.list(3, () => ({
        resource: this.resource(),
        schemaUrl: this.schemaUrl(),
        scopeLogs: this.list(3, () => ({ scope: this.scope(), schemaUrl: this.schemaUrl(), logRecords: this.list(5, () => this.logRecord()) })),
      })),
    };
  }

  logRecord(): object {
    return {
      timeUnixNano: this.time(),
      observedTimeUnixNano: this.time(),
      // Non-negative: the JSONEachRow reference cannot store a negative one (UInt8 column), see differential.test.ts.
      severityNumber: this.chance(0.9) ? this.int(25) : this.pick([0, 255, 256, 300]),
      severityText: this.chance(0.3) ? this.string() : undefined,
      body: this.chance(0.85) ? this.anyValue() : undefined,
      attributes: this.attributes(),
      flags: this.chance(0.3) ? this.pick([0, 1, 0x1ff, 4294967295]) : undefined,
      traceId: this.id(16),
      spanId: this.id(8),
      eventName: this.chance(0.2) ? this.string() : undefined,
    };
  }

  metrics(): ExportRequestPropertiesBySignal['metrics'] {
    return {
      resourceMetrics: this.list(2, () => ({
        resource: this.resource(),
        schemaUrl: this.schemaUrl(),
        scopeMetrics: this.list(2, () => ({ scope: this.scope(), schemaUrl: this.schemaUrl(), metrics: this.list(5, () => this.metric()) })),
      })),
    };
  }

  double(): number | undefined {
    return this.chance(0.2) ? undefined : this.chance(0.4) ? this.pick(DOUBLES) : (this.#rand() - 0.3) * 1000;
  }

  counts(max: number) {
    return this.list(max, () => (this.chance(0.8) ? this.int(1000) : u64(this.pick(U64S))));
  }

  exemplars() {
    if (this.chance(0.6)) return undefined;
    return this.list(2, () => ({
      filteredAttributes: this.attributes(3),
      timeUnixNano: this.time(),
      ...(this.chance(0.5) ? { asDouble: this.double() } : this.chance(0.8) ? { asInt: i64(this.pick(INT64S)) } : {}),
      spanId: this.id(8),
      traceId: this.id(16),
    }));
  }

  pointHead() {
    return {
      attributes: this.attributes(),
      startTimeUnixNano: this.time(),
      timeUnixNano: this.time(),
      flags: this.chance(0.3) ? this.pick([0, 1, 4294967295]) : undefined,
    };
  }

  numberPoint(): object {
    const value = this.chance(0.5) ? { asDouble: this.double() } : this.chance(0.8) ? { asInt: this.chance(0.5) ? this.int(1e6) : i64(this.pick(INT64S)) } : {};
    return { ...this.pointHead(), ...value, exemplars: this.exemplars() };
  }

  metric(): object {
    const base = { name: this.chance(0.9) ? this.string() : undefined, description: this.chance(0.3) ? this.string() : undefined, unit: this.chance(0.5) ? this.string() : undefined };
    const temporality = this.chance(0.8) ? this.int(3) : undefined;
    switch (this.int(6)) {
      case 0:
        return { ...base, gauge: { dataPoints: this.list(3, () => this.numberPoint()) } };
      case 1:
        return { ...base, sum: { dataPoints: this.list(3, () => this.numberPoint()), aggregationTemporality: temporality, isMonotonic: this.chance(0.5) } };
      case 2:
        return {
          ...base,
          histogram: {
            aggregationTemporality: temporality,
            dataPoints: this.list(3, () => ({
              ...this.pointHead(),
              count: this.chance(0.8) ? this.int(1e6) : u64(this.pick(U64S)),
              sum: this.double(),
              bucketCounts: this.counts(5),
              explicitBounds: this.list(4, () => this.double() ?? 0),
              exemplars: this.exemplars(),
              min: this.double(),
              max: this.double(),
            })),
          },
        };
      case 3:
        return {
          ...base,
          exponentialHistogram: {
            aggregationTemporality: temporality,
            dataPoints: this.list(3, () => ({
              ...this.pointHead(),
              count: this.int(1e6),
              sum: this.double(),
              scale: this.int(41) - 20,
              zeroCount: this.chance(0.8) ? this.int(100) : u64(this.pick(U64S)),
              positive: this.chance(0.7) ? { offset: this.int(21) - 10, bucketCounts: this.counts(5) } : undefined,
              negative: this.chance(0.5) ? { offset: this.int(21) - 10, bucketCounts: this.counts(5) } : undefined,
              zeroThreshold: this.double(),
              exemplars: this.exemplars(),
              min: this.double(),
              max: this.double(),
            })),
          },
        };
      case 4:
        return {
          ...base,
          summary: {
            dataPoints: this.list(3, () => ({
              ...this.pointHead(),
              count: this.int(1e6),
              sum: this.double(),
              quantileValues: this.list(4, () => ({ quantile: this.double(), value: this.double() })),
            })),
          },
        };
      default:
        return base;
    }
  }
}
