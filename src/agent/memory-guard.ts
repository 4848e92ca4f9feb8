/**
 * Sheds load before the heap limit is reached: above a high-water mark of the V8 heap, new
 * batches are refused at the door, where refusing is safe. The local OTLP receiver answers 503
 * (applications retry), the file tailer retries later (the lines stay in the files), and one
 * host-metrics scrape is skipped. What is already taken still flows out, so the heap falls
 * back, instead of the process growing into the limit and being ended by V8.
 */
import { getHeapStatistics } from 'node:v8';
import type { Component, Consumer, Telemetry } from './types.ts';

export interface MemoryGuardOptions {
  next: Consumer;
  /** Share of the heap limit past which batches are refused. Default 0.85. */
  highWater?: number;
  /** Heap in use and its limit, in bytes; V8's own figures by default. */
  probe?: () => { used: number; limit: number };
  /** How long one reading is trusted (a reading costs a call into V8). Default 100 ms. */
  probeEveryMs?: number;
  now?: () => number;
  log?: (line: string) => void;
}

export interface MemoryGuard extends Consumer, Component {}

const v8Probe = () => {
  const h = getHeapStatistics();
  return { used: h.used_heap_size, limit: h.heap_size_limit };
};

export function createMemoryGuard(options: MemoryGuardOptions): MemoryGuard {
  const highWater = options.highWater ?? 0.85;
  if (!(highWater > 0 && highWater < 1)) throw new TypeError(`memory guard: highWater must be between 0 and 1, got ${highWater}`);
  const probe = options.probe ?? v8Probe;
  const every = options.probeEveryMs ?? 100;
  const now = options.now ?? Date.now;
  const log = options.log ?? (() => {});
  let readAt = -Infinity;
  let over = false;
  let refused = 0;
  let refusedItems = 0;
  return {
    name: 'memory',
    stats: () => ({ refusedBatches: refused, refusedItems, overHighWater: over ? 1 : 0 }),
    async consume(batch: Telemetry) {
      const t = now();
      if (t - readAt >= every) {
        readAt = t;
        const { used, limit } = probe();
        const wasOver = over;
        over = used > highWater * limit;
        if (over && !wasOver) log(`heap at ${Math.round((100 * used) / limit)} % of its limit: refusing new data until it falls (receivers retry)`);
        if (!over && wasOver) log('heap back under its high-water mark: taking data again');
      }
      if (over) {
        refused++;
        refusedItems += batch.items;
        throw new Error('the agent is short of memory; retry later');
      }
      return options.next.consume(batch);
    },
  };
}
