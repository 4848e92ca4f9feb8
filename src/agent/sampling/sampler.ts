/**
 * The agent's adaptive tail sampler for traces.
 *
 * Spans are grouped by trace id and held for decisionWaitMs after a trace's first span, then the
 * whole trace is decided: kept if any span failed (status ERROR) or ran longer than
 * slowThresholdMs, otherwise kept with probability p by consistent probability sampling (see
 * randomness.ts), so every host seeing part of a trace makes the same decision at the same p.
 * p follows the traffic: p = target / (rate of such traces), the rate being a ~10 s moving
 * average, so the kept rate holds near the target and p moves smoothly.
 *
 * Held spans live only in memory: a crash loses at most the last decisionWaitMs of traces (plus
 * kept spans not yet handed on), as with the Collector's tail-sampling processor. Everything held
 * is bounded: spans by maxBufferedSpans, decisions by rememberDecisions, checkpoints by one per
 * receiver. Spans are held encoded (see held-span.ts), decoded again and marked on the way out.
 */
import { isZeroId, longToNumber, opentelemetry, TRACE_ID_BYTES } from '../../otlp/index.ts';
import type { ComponentStats, Processor, Telemetry, TelemetryOf } from '../types.ts';
import { buildTraceRequest } from './build-request.ts';
import { CheckpointTracker } from './checkpoints.ts';
import { DecisionCache, type Decision } from './decision-cache.ts';
import { encodeSpan } from './encoding.ts';
import { OutputQueue } from './output-queue.ts';
import { HeldSpan, type Span } from './held-span.ts';
import { resolveSamplerOptions, type ResolvedSamplerOptions, type SamplerOptions } from './options.ts';
import { OriginTable, type ScopeOrigin } from './origins.ts';
import { ALWAYS, explicitRandomness, keeps, thresholdFor, traceRandomness, type SamplingThreshold } from './randomness.ts';
import { RateEstimator } from './rate-estimator.ts';
import { SlabStore } from './slabs.ts';
import { TraceBuffer, traceIdOf, traceKey, type PendingTrace } from './trace-buffer.ts';

/** Spans per batch handed downstream. */
const EMIT_BATCH_SPANS = 1024;
/** How far back the traffic estimate effectively looks. */
const RATE_TIME_CONSTANT_MS = 10_000;
const STATUS_CODE_ERROR = opentelemetry.proto.trace.v1.Status.StatusCode.STATUS_CODE_ERROR;

export interface TraceSampler extends Processor {
  /** Decides due traces, adapts p and hands kept spans on; the timer runs it every tickMs. */
  tick(): Promise<void>;
}

function newCounters() {
  return {
    tracesIn: 0,
    tracesKept: 0,
    tracesDropped: 0,
    keptError: 0,
    keptSlow: 0,
    /** Traces decided before their wait was over because the buffer was full. */
    decidedEarly: 0,
    spansIn: 0,
    /** Spans kept by a decision (including late spans that followed one). */
    spansKept: 0,
    /** Spans dropped by a decision. */
    spansDropped: 0,
    /** Late error or slow spans of a dropped trace, kept on their own. */
    spansKeptLate: 0,
    /** Spans with a missing or invalid trace id, passed on unsampled. */
    spansWithoutTraceId: 0,
    /** Spans protobuf could not encode (malformed objects from a receiver), dropped. */
    spansUnencodable: 0,
    /** Kept spans dropped because downstream refused them and the buffer was full. */
    spansDroppedOverflow: 0,
    spansSent: 0,
    sendFailures: 0,
  };
}

function isError(span: Span): boolean {
  return span.status?.code === STATUS_CODE_ERROR;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

class Sampler implements TraceSampler {
  readonly name = 'sampler';
  private readonly options: ResolvedSamplerOptions;
  private readonly slowThresholdNs: number;
  private readonly buffer = new TraceBuffer();
  private readonly output = new OutputQueue();
  private readonly origins = new OriginTable();
  /** Encodings of spans awaiting their trace's decision. */
  private readonly pendingBytes = new SlabStore();
  /** Encodings of kept spans awaiting hand-off (see slabs.ts for why apart). */
  private readonly keptBytes = new SlabStore();
  private readonly checkpoints = new CheckpointTracker();
  private readonly decisions: DecisionCache;
  private readonly estimator: RateEstimator;
  private readonly counters = newCounters();
  private readonly timer: ReturnType<typeof setInterval>;
  private p = 1;
  private threshold: SamplingThreshold = ALWAYS;
  /** Spans of the batch being handed downstream right now. */
  private inFlight = 0;
  /** Hand-offs (and drops from the output) run one at a time, in order. */
  private exclusive: Promise<unknown> = Promise.resolve();
  private lastSendError: unknown;
  private stopped = false;

  constructor(options: ResolvedSamplerOptions) {
    this.options = options;
    this.slowThresholdNs = options.slowThresholdMs * 1e6;
    this.decisions = new DecisionCache(options.rememberDecisions);
    this.estimator = new RateEstimator(options.now(), RATE_TIME_CONSTANT_MS);
    this.timer = setInterval(() => {
      this.tick().catch((err: unknown) => this.options.log(`sampler: tick failed: ${errorText(err)}`));
    }, options.tickMs);
    this.timer.unref();
  }

  async consume(batch: Telemetry): Promise<void> {
    if (batch.signal !== 'traces') return this.options.next.consume(batch);
    if (this.stopped) throw new Error('sampler: stopped; trace batch not taken');
    const nowMs = this.options.now();
    let untilSeq = -1;
    for (const rs of batch.request.resourceSpans ?? []) {
      const resource = this.origins.resource(rs.resource, rs.schemaUrl);
      for (const ss of rs.scopeSpans ?? []) {
        const origin = this.origins.scope(resource, ss.scope, ss.schemaUrl);
        for (const span of ss.spans ?? []) {
          this.counters.spansIn++;
          const seq = this.place(origin, span, nowMs);
          if (seq > untilSeq) untilSeq = seq;
        }
      }
    }
    if (batch.checkpoint) this.checkpoints.hold(batch.checkpoint, untilSeq);
    // Resolving means the spans are ours: held in memory for up to decisionWaitMs, so a crash
    // loses at most those, as with the Collector's tail-sampling processor.
    await this.enforceLimit();
  }

  async tick(): Promise<void> {
    const nowMs = this.options.now();
    for (const trace of this.buffer.takeDue(nowMs - this.options.decisionWaitMs)) this.decide(trace);
    this.estimator.update(nowMs);
    this.adapt();
    this.releaseCheckpoints();
    await this.emit();
  }

  async flush(): Promise<void> {
    for (const trace of this.buffer.takeAll()) this.decide(trace);
    this.releaseCheckpoints();
    if (!(await this.emit())) {
      throw new Error(`sampler: flush could not hand ${this.output.length} kept spans downstream (still held): ${errorText(this.lastSendError)}`, {
        cause: this.lastSendError,
      });
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.flush();
  }

  stats(): ComponentStats {
    return {
      ...this.counters,
      bufferedSpans: this.heldSpans(),
      bufferedTraces: this.buffer.traceCount,
      rememberedDecisions: this.decisions.size,
      probability: this.threshold.probability,
    };
  }

  /** Takes one span: into its pending trace, or after its trace's decision. Returns the trace's seq, -1 if none. */
  private place(origin: ScopeOrigin, span: Span, nowMs: number): number {
    const traceId = span.traceId;
    if (!(traceId instanceof Uint8Array) || traceId.length !== TRACE_ID_BYTES || isZeroId(traceId)) {
      // Nothing to sample consistently by: passed on as is, for the gateway's validation to judge.
      this.counters.spansWithoutTraceId++;
      this.keepArriving(origin, span, ALWAYS);
      return -1;
    }
    const key = traceKey(traceId);
    let trace = this.buffer.get(key);
    if (!trace) {
      const decision = this.decisions.get(key);
      if (decision !== undefined) {
        this.followDecision(key, origin, span, decision);
        return -1;
      }
    }
    const held = this.hold(origin, span, this.pendingBytes);
    if (held === undefined) return -1;
    if (!trace) {
      trace = this.buffer.create(key, nowMs);
      this.counters.tracesIn++;
    }
    this.buffer.addSpan(trace, held);
    if (!trace.hasError && isError(span)) trace.hasError = true;
    if (!trace.isSlow && this.isSlow(span)) trace.isSlow = true;
    if (trace.randomness === undefined) trace.randomness = explicitRandomness(span.traceState);
    return trace.seq;
  }

  /** A late span: its trace was decided already. */
  private followDecision(key: string, origin: ScopeOrigin, span: Span, decision: Decision): void {
    if (decision !== null) {
      this.keepArriving(origin, span, decision);
      return;
    }
    if (isError(span) || this.isSlow(span)) {
      // Errors and slow spans are always kept, but this trace was dropped before this span came:
      // its earlier spans are gone, so this one is kept on its own. The trace counts as kept from
      // here on so its later spans (often the parents, which end last) come with it.
      this.counters.spansKeptLate++;
      this.decisions.set(key, ALWAYS);
      this.keepArriving(origin, span, ALWAYS);
      return;
    }
    this.counters.spansDropped++;
  }

  /** The span encoded into `store`; undefined (counted, logged) if protobuf cannot encode it. */
  private hold(origin: ScopeOrigin, span: Span, store: SlabStore): HeldSpan | undefined {
    let bytes: Uint8Array;
    try {
      bytes = encodeSpan(span);
    } catch (err) {
      const count = ++this.counters.spansUnencodable;
      // A receiver bug would repeat for every span: the first and every 1000th are enough to see it.
      if (count === 1 || count % 1000 === 0) this.options.log(`sampler: dropped a span that protobuf cannot encode (${count} so far): ${errorText(err)}`);
      return undefined;
    }
    const held = new HeldSpan(origin);
    store.put(held, bytes);
    return held;
  }

  /** Keeps a span as it arrives, with no pending trace to wait in. */
  private keepArriving(origin: ScopeOrigin, span: Span, decision: SamplingThreshold): void {
    const held = this.hold(origin, span, this.keptBytes);
    if (held === undefined) return;
    held.threshold = decision;
    this.output.push(held);
    this.counters.spansKept++;
  }

  private decide(trace: PendingTrace): void {
    let decision: Decision;
    if (trace.hasError) {
      decision = ALWAYS;
      this.counters.keptError++;
    } else if (trace.isSlow) {
      decision = ALWAYS;
      this.counters.keptSlow++;
    } else {
      this.estimator.add(1);
      const randomness = trace.randomness ?? traceRandomness(traceIdOf(trace.key));
      decision = keeps(randomness, this.threshold) ? this.threshold : null;
    }
    this.decisions.set(trace.key, decision);
    if (decision === null) {
      this.counters.tracesDropped++;
      this.counters.spansDropped += trace.spanCount;
      return;
    }
    this.counters.tracesKept++;
    for (let held = trace.first; held !== undefined; ) {
      const next = held.next;
      held.next = undefined;
      this.keptBytes.move(held);
      held.threshold = decision;
      this.output.push(held);
      held = next;
    }
    this.counters.spansKept += trace.spanCount;
  }

  private isSlow(span: Span): boolean {
    if (span.startTimeUnixNano == null || span.endTimeUnixNano == null) return false;
    return longToNumber(span.endTimeUnixNano) - longToNumber(span.startTimeUnixNano) > this.slowThresholdNs;
  }

  /** p = target / rate of traces sampled by probability; 1 until the rate is known or while it is under target. */
  private adapt(): void {
    const rate = this.estimator.perSecond;
    const target = this.options.targetTracesPerSecond;
    const p = rate === undefined || rate <= target ? 1 : target / rate;
    if (p === this.p) return;
    this.p = p;
    this.threshold = thresholdFor(p);
  }

  private heldSpans(): number {
    return this.buffer.spanCount + this.output.length + this.inFlight;
  }

  /**
   * Brings held spans back under maxBufferedSpans: decides the oldest traces early, hands kept
   * spans on (which makes the caller wait for downstream: backpressure), and if downstream
   * refuses them, drops the oldest kept spans.
   */
  private async enforceLimit(): Promise<void> {
    const max = this.options.maxBufferedSpans;
    let downstreamOk = true;
    while (this.heldSpans() > max) {
      if (this.buffer.spanCount > 0 && (this.output.length < EMIT_BATCH_SPANS || !downstreamOk)) {
        this.decide(this.buffer.shift() as PendingTrace);
        this.counters.decidedEarly++;
        continue;
      }
      if (downstreamOk && (this.output.length > 0 || this.inFlight > 0)) {
        this.releaseCheckpoints();
        downstreamOk = await this.emit();
        continue;
      }
      await this.runExclusive(() => {
        const dropped = this.output.dropOldest(this.heldSpans() - max);
        this.counters.spansDroppedOverflow += dropped;
      });
      break;
    }
    this.releaseCheckpoints();
  }

  private releaseCheckpoints(): void {
    this.checkpoints.release(this.buffer.decidedSeq, this.output.endPosition);
  }

  private runExclusive<T>(task: () => T | Promise<T>): Promise<T> {
    const run = this.exclusive.then(task);
    this.exclusive = run.catch(() => undefined);
    return run;
  }

  /** Hands everything kept so far downstream; false if downstream refused (the rest stays held). */
  private emit(): Promise<boolean> {
    return this.runExclusive(() => this.drain());
  }

  private async drain(): Promise<boolean> {
    for (;;) {
      const spans = this.output.take(EMIT_BATCH_SPANS);
      const ready = this.checkpoints.takeReady(this.output.startPosition);
      if (spans.length === 0 && !ready) return true;
      const batch: TelemetryOf<'traces'> = { signal: 'traces', request: buildTraceRequest(spans), items: spans.length };
      if (ready) batch.checkpoint = ready.checkpoint;
      this.inFlight = spans.length;
      try {
        await this.options.next.consume(batch);
        this.counters.spansSent += spans.length;
      } catch (err) {
        this.output.putBack(spans);
        if (ready) this.checkpoints.putBack(ready);
        this.counters.sendFailures++;
        this.lastSendError = err;
        this.options.log(`sampler: downstream did not take ${spans.length} kept spans; holding them for the next try: ${errorText(err)}`);
        return false;
      } finally {
        this.inFlight = 0;
      }
    }
  }
}

export function createTraceSampler(options: SamplerOptions): TraceSampler {
  return new Sampler(resolveSamplerOptions(options));
}
