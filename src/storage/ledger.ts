/**
 * The ingest ledger: which bus offset ranges a consumer group has already written into the
 * store, kept in the store itself.
 *
 * Insert deduplication tokens make a retried batch harmless only when the batch is formed
 * again exactly (same start and end) and only within ClickHouse's deduplication window. A
 * replay from a time starts wherever that time falls, days later: its batches line up with
 * nothing. The ledger makes the consumer skip every record whose offset lies in a range it
 * already wrote, whatever the batch boundaries, for as long as the bus keeps the data.
 *
 * It lives in the store, beside the rows it describes, so the two stay consistent: a store
 * restored from a backup taken at T has a ledger that also stops at T, and a replay then
 * fills in exactly what the backup lacks.
 *
 * Offsets name records only within one incarnation of a topic: a topic deleted and created
 * again (a Kafka topic re-created, an embedded bus started on a new data folder with the same
 * store) starts again at offset 0. So the ledger keys ranges by the topic's id too (the bus's
 * topicId), in the Topic column as `<topic>@<topicId>`: the ranges of an earlier incarnation
 * never hide the records of a new one. Rows written before the ledger knew topic ids carry the
 * bare topic name and so match nothing any more: a replay across that upgrade may write its
 * range once more (duplicates, once), which is the safe side of skipping data never stored.
 */
import type { TableSpec } from './cluster-ddl.ts';
import { countRows, insertChecked } from './checked-insert.ts';
import type { Store } from './store.ts';

/** How the ledger and the consumers' deduplication tokens name a topic incarnation. */
export function topicIncarnation(topic: string, topicId: string): string {
  return `${topic}@${topicId}`;
}

/** Matches the data tables' window, so a retried ledger insert is dropped like a retried batch. */
const DEDUP_WINDOW = 10_000;

export const LEDGER_TABLE = 'ingest_ledger';

/** Longer than any topic's retention: a range is only needed while the bus can replay it. */
const LEDGER_TTL_DAYS = 35;

/**
 * The ledger's table: one row per written batch; every node of a cluster keeps all of it (it
 * is small). Topic holds the topic incarnation, `<topic>@<topicId>` (topicIncarnation).
 */
export function ledgerTableSpec(): TableSpec {
  return {
    name: LEDGER_TABLE,
    body: `
  ConsumerGroup LowCardinality(String),
  Topic LowCardinality(String),
  Partition UInt32,
  StartOffset UInt64,
  EndOffset UInt64,
  Records UInt64,
  WrittenAt DateTime64(3) DEFAULT now64(3)`,
    engine: 'ReplacingMergeTree',
    orderBy: '(ConsumerGroup, Topic, Partition, StartOffset)',
    ttl: `toDateTime(WrittenAt) + INTERVAL ${LEDGER_TTL_DAYS} DAY`,
    settings: (dedupWindow) => `${dedupWindow} = ${DEDUP_WINDOW}`,
    placement: { kind: 'everywhere' },
  };
}

/**
 * Offset ranges [start, end) known to be written, merged and sorted. `covers` is asked with
 * increasing offsets in the consumer's hot loop, so it walks a cursor instead of searching.
 */
export class CoveredRanges {
  readonly #starts: number[] = [];
  readonly #ends: number[] = [];
  #cursor = 0;

  constructor(ranges: Iterable<readonly [number, number]> = []) {
    const sorted = [...ranges].filter(([s, e]) => e > s).sort((a, b) => a[0] - b[0]);
    for (const [s, e] of sorted) {
      const last = this.#ends.length - 1;
      if (last >= 0 && s <= this.#ends[last]) this.#ends[last] = Math.max(this.#ends[last], e);
      else {
        this.#starts.push(s);
        this.#ends.push(e);
      }
    }
  }

  get size(): number {
    return this.#starts.length;
  }

  /** The end of the range holding `offset`, or -1. Cheapest for offsets asked in increasing order. */
  coveredUntil(offset: number): number {
    if (this.#starts.length === 0) return -1;
    if (this.#cursor >= this.#starts.length || this.#starts[this.#cursor] > offset) this.#cursor = 0;
    while (this.#cursor < this.#starts.length && this.#ends[this.#cursor] <= offset) this.#cursor++;
    const i = this.#cursor;
    return i < this.#starts.length && this.#starts[i] <= offset ? this.#ends[i] : -1;
  }

  covers(offset: number): boolean {
    return this.coveredUntil(offset) !== -1;
  }

  /** Everything below `offset` is behind the consumer: forget it. */
  dropBelow(offset: number): void {
    let n = 0;
    while (n < this.#ends.length && this.#ends[n] <= offset) n++;
    if (n > 0) {
      this.#starts.splice(0, n);
      this.#ends.splice(0, n);
      this.#cursor = 0;
    }
  }
}

export class IngestLedger {
  readonly #store: Store;
  readonly #group: string;

  constructor(store: Store, group: string) {
    this.#store = store;
    this.#group = group;
  }

  /** Ranges of a partition of the topic incarnation `topicId` written at or after `fromOffset`. */
  async load(topic: string, topicId: string, partition: number, fromOffset: number): Promise<CoveredRanges> {
    const rows = await this.#store.query<{ s: string; e: string }>(
      `SELECT StartOffset AS s, EndOffset AS e FROM ${LEDGER_TABLE}
       WHERE ConsumerGroup = {group:String} AND Topic = {topic:String} AND Partition = {partition:UInt32} AND EndOffset > {from:UInt64}
       ORDER BY StartOffset`,
      { group: this.#group, topic: topicIncarnation(topic, topicId), partition, from: fromOffset },
    );
    return new CoveredRanges(rows.map((r) => [Number(r.s), Number(r.e)] as const));
  }

  /**
   * Notes that every record of [start, end) of the topic incarnation `topicId` is in the store.
   * Idempotent. `mayBeWritten`: an insert of this range may have run before, so the row is
   * looked for afterwards (its token may have outlived it, checked-insert.ts).
   */
  async record(topic: string, topicId: string, partition: number, start: number, end: number, records: number, mayBeWritten = false): Promise<void> {
    const incarnation = topicIncarnation(topic, topicId);
    const row = { ConsumerGroup: this.#group, Topic: incarnation, Partition: partition, StartOffset: start, EndOffset: end, Records: records };
    const token = `ledger:${this.#group}:${incarnation}:${partition}:${start}:${end}`;
    const insert = (dedupToken: string) => this.#store.insert(LEDGER_TABLE, [row], { dedupToken });
    if (!mayBeWritten) return insert(token);
    await insertChecked(
      {
        what: `ingest ledger row ${incarnation}:${partition}:${start}-${end}`,
        rows: 1,
        insert,
        count: () =>
          countRows(
            this.#store,
            `SELECT count() AS n FROM ${LEDGER_TABLE}
             WHERE ConsumerGroup = {group:String} AND Topic = {topic:String} AND Partition = {partition:UInt32}
               AND StartOffset = {start:UInt64} AND EndOffset = {end:UInt64}`,
            { group: this.#group, topic: incarnation, partition, start, end },
          ),
      },
      token,
    );
  }
}
