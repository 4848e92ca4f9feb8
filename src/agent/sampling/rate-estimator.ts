/**
 * Events per second as an exponentially weighted moving average: each update blends the rate seen
 * since the previous update in with a weight that grows with the time passed, so the estimate
 * forgets with a fixed time constant whatever the update cadence, and moves smoothly.
 */
export class RateEstimator {
  private readonly timeConstantMs: number;
  private readonly warmupMs: number;
  private lastUpdateMs: number;
  private pending = 0;
  private warmupCount = 0;
  private warmupElapsedMs = 0;
  private estimate: number | undefined;

  /**
   * @param timeConstantMs how far back the average effectively looks.
   * @param warmupMs how long to count, once events appear, before the first estimate: one update
   *   alone would be too noisy to start from.
   */
  constructor(startMs: number, timeConstantMs = 10_000, warmupMs = 1_000) {
    this.lastUpdateMs = startMs;
    this.timeConstantMs = timeConstantMs;
    this.warmupMs = warmupMs;
  }

  add(count = 1): void {
    this.pending += count;
  }

  update(nowMs: number): void {
    const elapsed = nowMs - this.lastUpdateMs;
    if (!(elapsed > 0)) return;
    this.lastUpdateMs = nowMs;
    const count = this.pending;
    this.pending = 0;
    if (this.estimate === undefined) {
      // Idle time before the first event says nothing about the traffic to come.
      if (count === 0 && this.warmupCount === 0) return;
      this.warmupCount += count;
      this.warmupElapsedMs += elapsed;
      if (this.warmupElapsedMs >= this.warmupMs) this.estimate = (this.warmupCount * 1000) / this.warmupElapsedMs;
      return;
    }
    const weight = 1 - Math.exp(-elapsed / this.timeConstantMs);
    this.estimate += weight * ((count * 1000) / elapsed - this.estimate);
  }

  /** Events per second, or undefined until the warm-up is over. */
  get perSecond(): number | undefined {
    return this.estimate;
  }
}
