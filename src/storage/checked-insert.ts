/**
 * An insert that may repeat an earlier one, checked against what the store holds afterwards.
 *
 * Deduplication tokens make a repeated insert harmless, but on a non-replicated MergeTree table
 * they are not atomic with the data: ClickHouse adds the token to the table's deduplication log
 * before it renames the new part into place (MergeTreeSink). A process killed between the two
 * (chDB inside ours, or a server) keeps the token and loses the part; the retry carrying the
 * same token is then dropped as a repeat of rows that do not exist. (Replicated tables commit
 * the block id and the part in one Keeper transaction: there the token alone holds.)
 *
 * So a write that may have run before inserts under its usual token, which drops it when the
 * earlier one landed, then counts its rows in the store. When they are not all there it
 * removes what is there of it (one insert makes a part per table partition, so a part of it may
 * have landed) and inserts again under a fresh token, then counts again.
 */
import { randomBytes } from 'node:crypto';
import type { QueryParams, Store } from './store.ts';

export interface CheckedInsert {
  /** Names the write in errors and logs ("traces batch 12-40 into otel_traces"). */
  what: string;
  /** Rows the write holds. */
  rows: number;
  insert(dedupToken: string): Promise<void>;
  /** Rows of this write the store holds. */
  count(): Promise<number>;
  /**
   * Deletes every row of this write from the store. Absent for tables whose engine replaces a
   * repeated row (ReplacingMergeTree keyed by the write): there a repeat is harmless, and a
   * count above `rows` is a repeat not yet merged away.
   */
  remove?(): Promise<void>;
}

/** pino-compatible subset. */
export interface CheckedInsertLogger {
  warn(obj: object, msg?: string): void;
}

function whole(write: CheckedInsert, found: number): boolean {
  return write.remove ? found === write.rows : found >= write.rows;
}

/** Inserts under `dedupToken`, then makes sure the store holds the write exactly once; throws when it cannot (the caller retries). */
export async function insertChecked(write: CheckedInsert, dedupToken: string, logger?: CheckedInsertLogger): Promise<void> {
  await write.insert(dedupToken);
  const found = await write.count();
  if (whole(write, found)) return;
  logger?.warn({ write: write.what, rows: write.rows, found }, 'the store does not hold this retried write whole (its token outlived its rows); writing it again');
  if (found > 0 && write.remove) await write.remove();
  await write.insert(`${dedupToken}:again:${randomBytes(6).toString('hex')}`);
  const again = await write.count();
  if (!whole(write, again)) throw new Error(`${write.what}: the store holds ${again} of its ${write.rows} rows after writing it again`);
}

/** The `n` of a `SELECT count() AS n ...` query: what a CheckedInsert's count() usually is. */
export async function countRows(store: Store, sql: string, params: QueryParams): Promise<number> {
  const [r] = await store.query<{ n: string }>(sql, params);
  return Number(r.n);
}
