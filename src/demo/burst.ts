/**
 * The error burst schedule: something for a newcomer to see. Every `everySec` (first one
 * `firstAfterSec` into the demo) `payments` fails about 40% of charges and slows down for
 * `lengthSec` seconds, then recovers.
 */
export interface BurstSchedule {
  firstAfterSec: number;
  everySec: number;
  lengthSec: number;
}

export const DEFAULT_BURST: BurstSchedule = { firstAfterSec: 120, everySec: 300, lengthSec: 45 };

export function validateBurst(b: BurstSchedule): BurstSchedule {
  if (!(b.firstAfterSec >= 0)) throw new RangeError(`burst.firstAfterSec must be >= 0, got ${b.firstAfterSec}`);
  if (!(b.lengthSec > 0)) throw new RangeError(`burst.lengthSec must be > 0, got ${b.lengthSec}`);
  if (!(b.everySec > b.lengthSec)) throw new RangeError(`burst.everySec must exceed burst.lengthSec (${b.lengthSec}), got ${b.everySec}`);
  return b;
}

/** Whether `atMs` falls inside a burst of a demo that started at `startMs`. */
export function inBurst(schedule: BurstSchedule, startMs: number, atMs: number): boolean {
  const sinceFirst = atMs - startMs - schedule.firstAfterSec * 1000;
  if (sinceFirst < 0) return false;
  return sinceFirst % (schedule.everySec * 1000) < schedule.lengthSec * 1000;
}
