/**
 * Bounds every fuzz call in time. Decoders are synchronous, so they run in a worker
 * (fuzz-decoder-worker.ts) that this watchdog terminates when its case counter stops moving;
 * asynchronous calls (HTTP requests) race a timer.
 */
import { Worker } from 'node:worker_threads';
import type { DecoderFuzzJob, DecoderFuzzMode, DecoderFuzzResult } from './fuzz-decoder-worker.ts';
import { replayHint } from './fuzz-random.ts';

/** No decoder call may take this long: far beyond any honest input, short enough to fail fast. */
export const STALL_MS = 20_000;

export function runDecoderFuzz(mode: DecoderFuzzMode, seed: number, cases: number): Promise<DecoderFuzzResult> {
  const progress = new SharedArrayBuffer(8);
  const view = new Int32Array(progress);
  const job: DecoderFuzzJob = { mode, seed, cases, progress };
  const worker = new Worker(new URL('./fuzz-decoder-worker.ts', import.meta.url), { workerData: job });
  return new Promise<DecoderFuzzResult>((resolve, reject) => {
    let lastDone = -1;
    let lastMove = Date.now();
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearInterval(timer);
      fn();
    };
    const timer = setInterval(() => {
      const done = Atomics.load(view, 1);
      if (done !== lastDone) {
        lastDone = done;
        lastMove = Date.now();
        return;
      }
      if (Date.now() - lastMove < STALL_MS) return;
      const caseNo = Atomics.load(view, 0);
      finish(() => reject(new Error(`a decoder hung: no progress for ${STALL_MS / 1000} s on ${replayHint(seed, mode, caseNo)}`)));
      void worker.terminate();
    }, 500);
    worker.once('message', (result: DecoderFuzzResult) => finish(() => resolve(result)));
    worker.once('error', (err) => finish(() => reject(new Error(`the ${mode} fuzz worker crashed at ${replayHint(seed, mode, Atomics.load(view, 0))}: ${err.stack ?? err}`))));
    worker.once('exit', (code) => finish(() => reject(new Error(`the ${mode} fuzz worker exited (code ${code}) at ${replayHint(seed, mode, Atomics.load(view, 0))}`))));
  });
}

/** Settles with `promise`, or rejects after `ms` naming what did not answer. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms / 1000} s: ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
