/** The step of a metrics query: its parsing, its default, and the cap on points per series. */

export const MAX_POINTS_PER_SERIES = 11_000;
/** Points a default step aims at over the range. */
export const DEFAULT_POINTS = 120;

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };
const STEP = /^(\d{1,9})(s|m|h|d)?$/;

/** Seconds of `30`, `30s`, `5m`, `1h`, `1d`; null when malformed or zero. */
export function parseStepSeconds(text: string): number | null {
  const m = STEP.exec(text);
  if (!m) return null;
  const seconds = Number(m[1]) * UNIT_SECONDS[m[2] ?? 's'];
  return seconds >= 1 ? seconds : null;
}

/** Steps people read easily on an axis, in seconds. */
const NICE_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400];

/** range / 120 rounded up to a nice step (whole days beyond a day), at least 1 s. */
export function defaultStepSeconds(rangeMs: number): number {
  const raw = rangeMs / 1000 / DEFAULT_POINTS;
  for (const step of NICE_STEPS) if (step >= raw) return step;
  return Math.ceil(raw / 86400) * 86400;
}

/** Buckets (aligned on multiples of the step since the epoch) that [fromMs, toMs) touches. */
export function bucketCount(fromMs: number, toMs: number, stepMs: number): number {
  return Math.floor((toMs - 1) / stepMs) - Math.floor(fromMs / stepMs) + 1;
}
