/**
 * Orders writes to the buffer like a reader-writer lock. Plain batches are written together
 * (they share group commits); a batch with a checkpoint waits for every earlier write, then
 * runs alone, its checkpoint file update included, before later writes start. Hence at most
 * the newest record of the buffer can carry a checkpoint the file does not have yet.
 */
const settle = (): void => {};

export class WriteGate {
  /** Settles when the last exclusive task queued so far has finished. */
  private barrier: Promise<void> = Promise.resolve();
  private readonly running = new Set<Promise<void>>();

  shared<T>(task: () => Promise<T>): Promise<T> {
    return this.track(this.barrier.then(task));
  }

  exclusive<T>(task: () => Promise<T>): Promise<T> {
    const result = Promise.all([this.barrier, ...this.running]).then(task);
    this.barrier = result.then(settle, settle);
    return this.track(result);
  }

  /** Settles once every task queued so far has finished. */
  async drain(): Promise<void> {
    while (this.running.size > 0) await Promise.all(this.running);
  }

  private track<T>(result: Promise<T>): Promise<T> {
    const settled = result.then(settle, settle);
    this.running.add(settled);
    void settled.then(() => this.running.delete(settled));
    return result;
  }
}
