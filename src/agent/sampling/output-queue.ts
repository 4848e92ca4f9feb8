/**
 * Kept spans waiting to be handed downstream, in decision order. Positions count spans handled
 * (handed on or dropped) since the start, so a checkpoint can name the point after which it may
 * travel (see checkpoints.ts).
 */
import type { HeldSpan } from './held-span.ts';

export class OutputQueue {
  private spans: HeldSpan[] = [];
  private handled = 0;

  push(held: HeldSpan): void {
    this.spans.push(held);
  }

  /** Takes up to `max` spans from the front, to send. */
  take(max: number): HeldSpan[] {
    const taken = this.spans.length <= max ? this.spans : this.spans.slice(0, max);
    this.spans = taken === this.spans ? [] : this.spans.slice(taken.length);
    this.handled += taken.length;
    return taken;
  }

  /** Returns spans taken by `take` whose sending failed to the front, in their order. */
  putBack(taken: HeldSpan[]): void {
    if (taken.length === 0) return;
    this.spans = this.spans.length === 0 ? taken : taken.concat(this.spans);
    this.handled -= taken.length;
  }

  /** Drops up to `count` of the oldest spans; returns how many were dropped. */
  dropOldest(count: number): number {
    return this.take(Math.max(0, count)).length;
  }

  get length(): number {
    return this.spans.length;
  }

  /** Spans handled so far plus those queued: where the queue ends. */
  get endPosition(): number {
    return this.handled + this.spans.length;
  }

  /** Spans handled so far: where the queue starts. */
  get startPosition(): number {
    return this.handled;
  }
}
