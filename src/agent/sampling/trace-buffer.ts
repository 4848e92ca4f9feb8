/**
 * Traces awaiting their sampling decision, oldest first. A Map keeps insertion order, which is the
 * order of each trace's first span, so both due traces and the ones to decide early when the
 * buffer is full are always at the front.
 */
import type { HeldSpan } from './held-span.ts';

/**
 * The map key of a 16-byte trace id: a flat 16-character one-byte string, about a third of the
 * memory of its hex form (which bytesToHex builds as a rope of 16 pieces), for the 100 000
 * remembered decisions.
 */
export function traceKey(id: Uint8Array): string {
  return String.fromCharCode(id[0], id[1], id[2], id[3], id[4], id[5], id[6], id[7], id[8], id[9], id[10], id[11], id[12], id[13], id[14], id[15]);
}

/** The trace id a traceKey was made from. */
export function traceIdOf(key: string): Uint8Array {
  const id = new Uint8Array(key.length);
  for (let i = 0; i < key.length; i++) id[i] = key.charCodeAt(i);
  return id;
}

export interface PendingTrace {
  /** traceKey of the trace id (the id itself is not held: a decoded one is a view pinning its request). */
  key: string;
  /** Arrival order; traces leave the buffer in this order (see decidedSeq). */
  seq: number;
  firstSeenMs: number;
  /** Its spans, in arrival order, linked through HeldSpan.next. */
  first: HeldSpan | undefined;
  last: HeldSpan | undefined;
  spanCount: number;
  hasError: boolean;
  isSlow: boolean;
  /** An explicit `ot=rv` randomness found on one of its spans, which overrides the trace id's. */
  randomness: bigint | undefined;
}

export class TraceBuffer {
  private readonly traces = new Map<string, PendingTrace>();
  private nextSeq = 0;
  private spans = 0;
  private lastRemovedSeq = -1;

  get(key: string): PendingTrace | undefined {
    return this.traces.get(key);
  }

  create(key: string, nowMs: number): PendingTrace {
    const trace: PendingTrace = {
      key,
      seq: this.nextSeq++,
      firstSeenMs: nowMs,
      first: undefined,
      last: undefined,
      spanCount: 0,
      hasError: false,
      isSlow: false,
      randomness: undefined,
    };
    this.traces.set(key, trace);
    return trace;
  }

  addSpan(trace: PendingTrace, held: HeldSpan): void {
    if (trace.last === undefined) trace.first = held;
    else trace.last.next = held;
    trace.last = held;
    trace.spanCount++;
    this.spans++;
  }

  /** Removes and returns the oldest trace. */
  shift(): PendingTrace | undefined {
    const first = this.traces.values().next();
    if (first.done) return undefined;
    return this.remove(first.value);
  }

  /** Removes and returns the traces whose first span arrived at or before cutoffMs. */
  takeDue(cutoffMs: number): PendingTrace[] {
    const due: PendingTrace[] = [];
    for (const trace of this.traces.values()) {
      if (trace.firstSeenMs > cutoffMs) break;
      due.push(trace);
    }
    for (const trace of due) this.remove(trace);
    return due;
  }

  takeAll(): PendingTrace[] {
    const all = [...this.traces.values()];
    for (const trace of all) this.remove(trace);
    return all;
  }

  private remove(trace: PendingTrace): PendingTrace {
    this.traces.delete(trace.key);
    this.spans -= trace.spanCount;
    this.lastRemovedSeq = trace.seq;
    return trace;
  }

  /** Every trace with seq <= this has left the buffer (traces leave in seq order). */
  get decidedSeq(): number {
    return this.lastRemovedSeq;
  }

  get spanCount(): number {
    return this.spans;
  }

  get traceCount(): number {
    return this.traces.size;
  }
}
