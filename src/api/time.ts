/**
 * Time parameters: RFC 3339 (nanosecond fractions kept) or Unix milliseconds, held as
 * nanoseconds in a bigint because the tables store DateTime64(9).
 */
import { badParam } from './errors.ts';

export const DEFAULT_RANGE_MS = 60 * 60 * 1000;

const NS_PER_MS = 1_000_000n;
const UNIX_MS = /^\d{1,15}$/;
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?([Zz]|([+-])(\d{2}):(\d{2}))$/;

// DateTime (the logs' sort key) ends in 2106: later times could not prune, so they are refused.
const MAX_NS = 2n ** 32n * 1_000_000_000n;

/**
 * Nanoseconds since the epoch, or null when the text is neither RFC 3339 nor Unix
 * milliseconds, or falls outside 1970..2106.
 */
export function parseTimeNs(text: string): bigint | null {
  const ns = parseAnyTimeNs(text);
  return ns !== null && ns >= 0n && ns < MAX_NS ? ns : null;
}

function parseAnyTimeNs(text: string): bigint | null {
  if (UNIX_MS.test(text)) return BigInt(text) * NS_PER_MS;
  const m = RFC3339.exec(text);
  if (!m) return null;
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6]].map(Number);
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  // Date.UTC rolls 2024-02-30 over into March: a round trip catches impossible dates.
  const d = new Date(ms);
  if (d.getUTCFullYear() !== year || d.getUTCMonth() !== month - 1 || d.getUTCDate() !== day
    || hour > 23 || minute > 59 || second > 59) return null;
  let offsetMinutes = 0;
  if (m[9] !== undefined) {
    const oh = Number(m[10]);
    const om = Number(m[11]);
    if (oh > 23 || om > 59) return null;
    offsetMinutes = (m[9] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const fractionNs = m[7] === undefined ? 0n : BigInt(m[7].padEnd(9, '0'));
  return BigInt(ms - offsetMinutes * 60_000) * NS_PER_MS + fractionNs;
}

export interface TimeRange {
  fromNs: bigint;
  toNs: bigint;
}

/**
 * The [from, to) range of a request: `to` defaults to now and `from` to an hour before
 * `to`. `to` must be after `from`.
 */
export function parseTimeRange(from: string | undefined, to: string | undefined, nowMs: number = Date.now()): TimeRange {
  const hour = BigInt(DEFAULT_RANGE_MS) * NS_PER_MS;
  const fromNs = from === undefined ? undefined : parseTimeNs(from);
  if (fromNs === null) throw badParam('from', 'must be an RFC 3339 time or Unix milliseconds, between 1970 and 2106');
  const toNs = to === undefined ? undefined : parseTimeNs(to);
  if (toNs === null) throw badParam('to', 'must be an RFC 3339 time or Unix milliseconds, between 1970 and 2106');
  const end = toNs ?? BigInt(nowMs) * NS_PER_MS;
  const start = fromNs ?? end - hour;
  if (end <= start) throw badParam('to', 'must be after from');
  return { fromNs: start, toNs: end };
}

/** Whole milliseconds, rounded down. */
export function nsToMs(ns: bigint): number {
  return Number(ns / NS_PER_MS);
}
