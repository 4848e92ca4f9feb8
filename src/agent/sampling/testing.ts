/** Builders and a fake clock for the sampler's tests. */
import { msToNanos, opentelemetry, str } from '../../otlp/index.ts';
import type { Consumer, SourceCheckpoint, Telemetry, TelemetryOf } from '../types.ts';
import type { Span } from './held-span.ts';
import { createTraceSampler, type TraceSampler } from './sampler.ts';
import type { SamplerOptions } from './options.ts';

export const START_MS = 1_700_000_000_000;
const ERROR = opentelemetry.proto.trace.v1.Status.StatusCode.STATUS_CODE_ERROR;

/** Seeded (mulberry32), so every run sees the same trace ids. */
export { seededRandom } from '../../otlp/fixtures.ts';

export function randomTraceId(random: () => number): Uint8Array {
  const id = new Uint8Array(16);
  for (let i = 0; i < 16; i++) id[i] = Math.floor(random() * 256);
  if (id[0] === 0) id[0] = 1;
  return id;
}

export class FakeClock {
  ms = START_MS;
  readonly now = (): number => this.ms;
  advance(ms: number): void {
    this.ms += ms;
  }
}

export interface SpanSpec {
  traceId: Uint8Array;
  name?: string;
  error?: boolean;
  durationMs?: number;
  endMs?: number;
  traceState?: string;
}

let spanCounter = 0;

export function makeSpan(spec: SpanSpec): Span {
  const endMs = spec.endMs ?? START_MS;
  const spanId = new Uint8Array(8);
  new DataView(spanId.buffer).setUint32(4, ++spanCounter);
  return {
    traceId: spec.traceId,
    spanId,
    name: spec.name ?? 'op',
    kind: 2,
    startTimeUnixNano: msToNanos(endMs - (spec.durationMs ?? 10)),
    endTimeUnixNano: msToNanos(endMs),
    attributes: [str('http.route', '/x')],
    ...(spec.traceState === undefined ? {} : { traceState: spec.traceState }),
    ...(spec.error ? { status: { code: ERROR, message: 'boom' } } : {}),
  };
}

export interface ServiceSpans {
  service: string;
  spans: Span[];
}

export function traceBatch(parts: ServiceSpans[], checkpoint?: SourceCheckpoint): TelemetryOf<'traces'> {
  let items = 0;
  const resourceSpans = parts.map(({ service, spans }) => {
    items += spans.length;
    return {
      resource: { attributes: [str('service.name', service)] },
      schemaUrl: 'https://opentelemetry.io/schemas/1.26.0',
      scopeSpans: [{ scope: { name: `${service}-tracer`, version: '1.0' }, spans }],
    };
  });
  return { signal: 'traces', request: { resourceSpans }, items, ...(checkpoint ? { checkpoint } : {}) };
}

export interface EmittedSpan {
  service: string;
  scope: string;
  span: Span;
  /** Fake-clock time of the batch that carried it. */
  atMs: number;
}

/** A downstream that records what it is given, and can be told to refuse. */
export class Collector implements Consumer {
  readonly batches: Telemetry[] = [];
  readonly emitted: EmittedSpan[] = [];
  refuse = false;
  private readonly clock: FakeClock | undefined;

  constructor(clock?: FakeClock) {
    this.clock = clock;
  }

  async consume(batch: Telemetry): Promise<void> {
    if (this.refuse) throw new Error('downstream is down');
    this.batches.push(batch);
    if (batch.signal !== 'traces') return;
    for (const rs of batch.request.resourceSpans ?? []) {
      const service = String(rs.resource?.attributes?.find((kv) => kv.key === 'service.name')?.value?.stringValue);
      for (const ss of rs.scopeSpans ?? []) {
        for (const span of ss.spans ?? []) this.emitted.push({ service, scope: String(ss.scope?.name), span, atMs: this.clock?.ms ?? 0 });
      }
    }
  }

  /** Emitted spans per trace id (hex). */
  byTrace(): Map<string, EmittedSpan[]> {
    const out = new Map<string, EmittedSpan[]>();
    for (const e of this.emitted) {
      const key = Buffer.from(e.span.traceId as Uint8Array).toString('hex');
      const list = out.get(key) ?? [];
      list.push(e);
      out.set(key, list);
    }
    return out;
  }
}

export function hexId(traceId: Uint8Array): string {
  return Buffer.from(traceId).toString('hex');
}

export function attribute(span: Span, key: string): unknown {
  const value = span.attributes?.find((kv) => kv.key === key)?.value;
  return value?.doubleValue ?? value?.stringValue ?? value?.intValue ?? undefined;
}

/** A sampler on a fake clock whose own timer never fires during a test: tests call tick(). */
export function testSampler(clock: FakeClock, next: Consumer, options: Partial<SamplerOptions> = {}): TraceSampler {
  return createTraceSampler({ next, now: clock.now, tickMs: 3_600_000, ...options });
}

export interface TrafficOptions {
  tracesPerSecond: number;
  seconds: number;
  random: () => number;
  /** Simulated time between batches. Default 100 ms. */
  stepMs?: number;
  /** Simulated time between ticks. Default 500 ms (the sampler's default). */
  tickEveryMs?: number;
  service?: string;
  /** Called with each trace id sent, e.g. to send the same traffic to another sampler. */
  onTrace?: (traceId: Uint8Array) => void;
}

/**
 * A steady stream of one-span traces (random ids, fast, no errors) to the given samplers, which
 * all see the same traffic; the clock advances by stepMs per batch and they tick every tickEveryMs.
 */
export async function sendSteadyTraffic(samplers: TraceSampler[], clock: FakeClock, options: TrafficOptions): Promise<void> {
  const stepMs = options.stepMs ?? 100;
  const tickEveryMs = options.tickEveryMs ?? 500;
  const steps = Math.round((options.seconds * 1000) / stepMs);
  let owed = 0;
  let sinceTick = 0;
  for (let step = 0; step < steps; step++) {
    owed += (options.tracesPerSecond * stepMs) / 1000;
    const count = Math.floor(owed);
    owed -= count;
    const ids: Uint8Array[] = [];
    for (let i = 0; i < count; i++) ids.push(randomTraceId(options.random));
    for (const id of ids) options.onTrace?.(id);
    for (const sampler of samplers) {
      const spans = ids.map((traceId) => makeSpan({ traceId, endMs: clock.ms }));
      await sampler.consume(traceBatch([{ service: options.service ?? 'filler', spans }]));
    }
    clock.advance(stepMs);
    sinceTick += stepMs;
    if (sinceTick >= tickEveryMs) {
      sinceTick = 0;
      for (const sampler of samplers) await sampler.tick();
    }
  }
}
