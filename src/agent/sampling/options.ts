/** The sampler's options, their defaults and their validation. */
import { optionChecks } from '../option-checks.ts';
import type { Consumer } from '../types.ts';

export interface SamplerOptions {
  next: Consumer;
  /** Traces per second to keep among those without errors or slow spans. Default 10 (as Datadog's agent). */
  targetTracesPerSecond?: number;
  /** A span longer than this keeps its whole trace. Default 1000. */
  slowThresholdMs?: number;
  /** How long a trace's spans are held after its first span arrives before it is decided. Default 5000. */
  decisionWaitMs?: number;
  /** Spans held at most (awaiting a decision or awaiting hand-off); beyond it the oldest traces are decided early. Default 50 000. */
  maxBufferedSpans?: number;
  /**
   * Trace ids whose decision is remembered for late spans: at most this many, and always the most
   * recently used three quarters of it (see decision-cache.ts). Default 100 000 (~2.3 MB).
   */
  rememberDecisions?: number;
  /** How often due traces are decided and kept spans handed on. Default 500; the timer does not keep the process alive. */
  tickMs?: number;
  /** Clock in Unix milliseconds; Date.now by default. */
  now?: () => number;
  /** Where failures to hand spans downstream are reported. */
  log?: (line: string) => void;
}

export interface ResolvedSamplerOptions {
  next: Consumer;
  targetTracesPerSecond: number;
  slowThresholdMs: number;
  decisionWaitMs: number;
  maxBufferedSpans: number;
  rememberDecisions: number;
  tickMs: number;
  now: () => number;
  log: (line: string) => void;
}

const { positive, nonNegative, integerAtLeast, optionalFunction, consumer } = optionChecks('sampler');

export function resolveSamplerOptions(options: SamplerOptions): ResolvedSamplerOptions {
  return {
    next: consumer(options?.next),
    targetTracesPerSecond: positive('targetTracesPerSecond', options.targetTracesPerSecond, 10),
    slowThresholdMs: nonNegative('slowThresholdMs', options.slowThresholdMs, 1000),
    decisionWaitMs: nonNegative('decisionWaitMs', options.decisionWaitMs, 5000),
    maxBufferedSpans: integerAtLeast('maxBufferedSpans', options.maxBufferedSpans, 1, 50_000),
    rememberDecisions: integerAtLeast('rememberDecisions', options.rememberDecisions, 0, 100_000),
    tickMs: positive('tickMs', options.tickMs, 500),
    now: optionalFunction('now', options.now, Date.now),
    log: optionalFunction('log', options.log, () => {}),
  };
}
