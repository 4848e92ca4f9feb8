import type { Logger } from '../selfobs/index.ts';

/**
 * What a process started, stopped in reverse order: receivers (started last) close before
 * the bus and store they feed. A failing stop is logged and the rest still stop.
 */
export interface Lifecycle {
  onStop(fn: () => Promise<void>): void;
  stop(): Promise<void>;
}

export function createLifecycle(logger: Logger): Lifecycle {
  const cleanups: Array<() => Promise<void>> = [];
  return {
    onStop: (fn) => {
      cleanups.push(fn);
    },
    stop: async () => {
      for (let fn = cleanups.pop(); fn; fn = cleanups.pop()) {
        try {
          await fn();
        } catch (err) {
          logger.warn({ err }, 'error while stopping');
        }
      }
    },
  };
}
