/**
 * Counting one batch of a bus partition: per (tenant, signal, hour), events (the record's item
 * count header) and bytes (the record value's length). Payloads are never decoded.
 */
import type { ConsumedRecord } from '../bus/index.ts';
import { HEADER_ITEMS, HEADER_SIGNAL, HEADER_TENANT } from '../bus/index.ts';
import { SIGNALS, type Signal } from '../telemetry/index.ts';
import type { UsageTableRow } from './schema.ts';

export const HOUR_MS = 3_600_000;

/** DateTime ends in 2106: a later (bogus) producer timestamp is booked in the last hour it can hold. */
const MAX_HOUR_MS = Math.floor((2 ** 32 - 1) * 1000 / HOUR_MS) * HOUR_MS;

/** Start of the record's UTC hour, Unix milliseconds. */
export function hourOf(timestampMs: number): number {
  const t = Math.min(Math.max(Number.isFinite(timestampMs) ? timestampMs : 0, 0), MAX_HOUR_MS);
  return t - (t % HOUR_MS);
}

const ITEMS = /^\d{1,12}$/;

/** The item count header as a number, or null when missing or not a whole number. */
export function itemsOf(headers: Record<string, string>): number | null {
  const text = headers[HEADER_ITEMS];
  return text !== undefined && ITEMS.test(text) ? Number(text) : null;
}

/** The signal header when it names a signal, else the topic (topics are named after signals). */
export function signalOf(rec: ConsumedRecord): Signal {
  const header = rec.headers[HEADER_SIGNAL];
  if (header !== undefined && (SIGNALS as readonly string[]).includes(header)) return header as Signal;
  return rec.topic as Signal;
}

/** What counting one record did, for metrics: skipped (no tenant), or counted with or without an item count. */
export type CountOutcome = 'counted' | 'no-tenant' | 'no-items';

interface Totals {
  tenant: string;
  signal: Signal;
  hourMs: number;
  events: number;
  bytes: number;
}

/** Totals of one batch, per (tenant, signal, hour). */
export class BatchCounter {
  readonly #totals = new Map<string, Totals>();

  add(rec: ConsumedRecord): CountOutcome {
    const tenant = rec.headers[HEADER_TENANT];
    if (!tenant) return 'no-tenant';
    const signal = signalOf(rec);
    const hourMs = hourOf(rec.timestamp);
    const items = itemsOf(rec.headers);
    const key = `${tenant}\u0000${signal}\u0000${hourMs}`;
    let t = this.#totals.get(key);
    if (t === undefined) {
      t = { tenant, signal, hourMs, events: 0, bytes: 0 };
      this.#totals.set(key, t);
    }
    t.events += items ?? 0;
    t.bytes += rec.value.length;
    return items === null ? 'no-items' : 'counted';
  }

  get size(): number {
    return this.#totals.size;
  }

  /** The batch's rows; [start, end) are its offsets in `topic`/`partition` (the rows' identity). */
  rows(topic: string, partition: number, start: number, end: number): UsageTableRow[] {
    const out: UsageTableRow[] = [];
    for (const t of this.#totals.values()) {
      out.push({
        TenantId: t.tenant,
        Hour: t.hourMs / 1000,
        Signal: t.signal,
        Topic: topic,
        Partition: partition,
        BatchStart: start,
        BatchEnd: end,
        Events: t.events,
        Bytes: t.bytes,
      });
    }
    return out;
  }
}
