import { closeSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** A lock older than this was left by a process that died: nothing holds it that long. */
const STALE_MS = 10_000;
const WAIT_MS = 5_000;
const RETRY_MS = 20;

/**
 * Runs fn while holding `<lockPath>` (created exclusively), so the CLI and a running stack
 * never interleave their read-modify-write of the same file. fn is synchronous: the lock is
 * held for a few milliseconds at most.
 */
export async function withFileLock<T>(lockPath: string, fn: () => T): Promise<T> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    try {
      const fd = openSync(lockPath, 'wx', 0o600);
      try {
        writeSync(fd, `${process.pid}\n`);
      } finally {
        closeSync(fd);
      }
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const age = lockAge(lockPath);
    // Gone between our open and the stat: free again, retry at once. Removing it here would
    // remove the lock another process may have taken meanwhile.
    if (age === null) continue;
    if (age > STALE_MS) {
      rmSync(lockPath, { force: true });
      continue;
    }
    if (Date.now() > deadline) {
      throw new Error(`${lockPath} is held by another process; if no ollystack process is running, remove it`);
    }
    await sleep(RETRY_MS);
  }
  try {
    return fn();
  } finally {
    rmSync(lockPath, { force: true });
  }
}

/** Milliseconds since the lock was taken, or null when there is no lock file. */
function lockAge(lockPath: string): number | null {
  try {
    return Date.now() - statSync(lockPath).mtimeMs;
  } catch {
    return null;
  }
}
