/**
 * Waiting for a poll that stop() must not wait for. Not Promise.race against one long-lived
 * "stopped" promise: each race leaves a reaction on that promise which holds the race's
 * result, so every poll's records, and the read buffers their values are slices of, stayed
 * reachable until stop (about 2 MB/s of buffers at the agent's load, never freed).
 */

/** The poll's records, or none as soon as the signal aborts; leaves nothing on the signal. */
export function pollUnlessAborted<T>(poll: Promise<T[]>, signal: AbortSignal): Promise<T[]> {
  if (signal.aborted) {
    // The poll still ends on its own (the consumer closes); its outcome is of no interest.
    poll.catch(() => undefined);
    return Promise.resolve([]);
  }
  return new Promise((resolve, reject) => {
    const onAbort = (): void => resolve([]);
    signal.addEventListener('abort', onAbort, { once: true });
    poll.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
