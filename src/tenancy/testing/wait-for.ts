import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Waits until check() holds, for changes that arrive by poll or pub/sub. The deadline only
 * bounds a hang: a test asserts that the change comes, not how fast.
 */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, deadlineMs = 15_000): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(25);
  }
}
