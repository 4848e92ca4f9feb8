/**
 * Receiver checkpoints that came with trace batches. One says "this receiver need not re-read
 * what it sent so far", so it travels downstream only once every span of its batch has been
 * decided and the kept ones are ahead of it in the output; sent earlier, a restart would skip
 * spans this sampler still held. Only the newest checkpoint per source matters (a later one
 * covers an earlier one), which bounds what is held to one per receiver.
 */
import type { SourceCheckpoint } from '../types.ts';

interface Waiting {
  checkpoint: SourceCheckpoint;
  /** The newest trace (TraceBuffer seq) its batch added spans to; -1 if none. */
  untilSeq: number;
}

interface Ready {
  checkpoint: SourceCheckpoint;
  /** Output position the spans before it end at. */
  position: number;
}

export class CheckpointTracker {
  private readonly waiting = new Map<string, Waiting>();
  private readonly ready = new Map<string, Ready>();

  hold(checkpoint: SourceCheckpoint, untilSeq: number): void {
    const previous = this.waiting.get(checkpoint.source);
    this.waiting.set(checkpoint.source, { checkpoint, untilSeq: Math.max(untilSeq, previous?.untilSeq ?? -1) });
  }

  /** Checkpoints whose traces have all been decided become ready at the output's current end. */
  release(decidedSeq: number, outputEnd: number): void {
    for (const [source, waiting] of this.waiting) {
      if (waiting.untilSeq > decidedSeq) continue;
      this.waiting.delete(source);
      this.setReady(source, waiting.checkpoint, outputEnd);
    }
  }

  /** A ready checkpoint whose spans all lie before `position`, removed; undefined if none. */
  takeReady(position: number): Ready | undefined {
    for (const [source, ready] of this.ready) {
      if (ready.position > position) continue;
      this.ready.delete(source);
      return ready;
    }
    return undefined;
  }

  /** Puts back a checkpoint whose batch was not taken, unless a newer one replaced it meanwhile. */
  putBack(ready: Ready): void {
    if (!this.ready.has(ready.checkpoint.source)) this.ready.set(ready.checkpoint.source, ready);
  }

  get held(): number {
    return this.waiting.size + this.ready.size;
  }

  private setReady(source: string, checkpoint: SourceCheckpoint, position: number): void {
    const previous = this.ready.get(source);
    this.ready.set(source, { checkpoint, position: Math.max(position, previous?.position ?? 0) });
  }
}
