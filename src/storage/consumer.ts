/**
 * The storage consumer: bus records -> micro-batches of rows -> ClickHouse, exactly once.
 *
 * Exactly-once in the store across a kill -9 at any moment, per partition and batch
 * [start, end) of offsets:
 *   1. commit offset=start with metadata `pending:<end>:<nonce>` (durable before any insert);
 *   2. insert every table of the batch with dedupToken `<topic>:<partition>:<start>:<end>:<nonce>:<table>`;
 *   3. record [start, end) in the ingest ledger (a table in the store, ledger.ts);
 *   4. commit offset=end (no metadata).
 * A restarted (or newly assigned) consumer that finds `pending:<end>:<nonce>` rebuilds exactly
 * [start, end) as its first batch of that partition, so every re-insert carries the token of
 * the one that may have landed, and ClickHouse drops it (the tables' deduplication window).
 * Step 4 of one batch and step 1 of the next are merged into one commit when the next batch is
 * already waiting and starts where this one ends.
 *
 * Beyond a retried batch, the ledger: when a partition is taken, the ranges it holds from the
 * committed offset on are loaded and their records skipped, so a group rewound by a replay, or
 * a member taking over a partition, stores nothing twice whatever the batch boundaries.
 *
 * The store failing never loses data: the batch is kept and retried with exponential backoff,
 * and polling stops meanwhile (the data waits in the bus). Offsets are committed only after
 * the inserts succeeded.
 */
import { randomBytes } from 'node:crypto';
import type { Registry } from 'prom-client';
import type { Bus, ConsumedRecord, Consumer, TopicPartition } from '../bus/types.ts';
import { HEADER_TENANT } from '../bus/topics.ts';
import type { Signal } from '../telemetry/signals.ts';
import { createConsumerMetrics, type ConsumerMetrics } from './consumer-metrics.ts';
import { RECORD_MAPPERS, type Row } from './rows/index.ts';
import { NATIVE_MAPPERS, NativeRowSink } from './rows/native/index.ts';
import { RowSink } from './rows/sink.ts';
import { TextRowSink, WIRE_MAPPERS } from './rows/wire/index.ts';
import { IngestLedger, type CoveredRanges } from './ledger.ts';
import { RAW_FORMATS, type RawFormat, type Store } from './store.ts';

/** pino-compatible subset. */
export interface ConsumerLogger {
  debug?(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface StorageConsumerOptions {
  bus: Bus;
  store: Store;
  groupId?: string;
  topics?: Signal[];
  /** A partition's batch is written once it holds this many rows... */
  batchMaxRows?: number;
  /** ...or once its first record waited this long. */
  batchMaxMs?: number;
  logger?: ConsumerLogger;
  registry?: Registry;
  /** Records asked from the bus per poll. */
  pollMaxRecords?: number;
  /** First retry delay after a failed insert; doubles up to retryMaxMs. */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /**
   * How batches go to a store with raw inserts: 'Native' (default; columnar blocks, the
   * cheapest for ClickHouse to ingest) or 'JSONEachRow' (the text path, kept as the reference
   * the Native encoders are checked against).
   */
  insertFormat?: RawFormat;
  /**
   * Keep the ingest ledger (default true): the offset ranges written, recorded in the store
   * after each batch and consulted when a partition is taken, so records already stored are
   * skipped whatever the batch boundaries (a replay from a time, a rebalance). Needs the
   * ledger table (migration 2); test doubles without it pass false.
   */
  ledger?: boolean;
}

export interface StorageConsumer {
  start(): void;
  /** Writes what was polled (one attempt), commits, closes the bus consumer. */
  stop(): Promise<void>;
  /** Resolves once everything polled so far is inserted and committed (for tests). */
  flushed(): Promise<void>;
}

const PENDING_PREFIX = 'pending:';

type BatchSink = NativeRowSink | TextRowSink | RowSink;

interface Batch {
  start: number;
  /** One past the last offset in the batch. */
  end: number;
  /** Native blocks or JSONEachRow text when the store takes raw inserts, else row objects. */
  sink: BatchSink;
  rows: number;
  openedAt: number;
  /** Set when the batch re-plays a pending [start, end) and must end exactly there. */
  fixedEnd: number | null;
  /** Part of the deduplication token: drawn when the batch is formed, kept when it is re-formed after a crash. */
  nonce: string;
}

interface PartitionState {
  key: string;
  topic: Signal;
  partition: number;
  mapper: (bytes: Buffer, tenant: string, sink: BatchSink) => number;
  open: Batch | null;
  sealed: Batch[];
  /** A pending range found at assignment, replayed by the partition's first batch. */
  replay: { start: number; end: number; nonce: string } | null;
  /** Offset ranges the ledger says are stored already: their records are skipped. */
  covered: CoveredRanges | null;
  /** Metadata of our last commit (so a pre-commit already made is not repeated). */
  committedMeta: string | null;
  committedEnd: number;
  polledEnd: number;
}

interface FlushWaiter {
  targets: Array<[PartitionState, number]>;
  resolve(): void;
  reject(err: Error): void;
}

function keyOf(topic: string, partition: number): string {
  return `${topic}:${partition}`;
}

/** `pending:<end>:<nonce>` (or `pending:<end>` as written before batches had a nonce). */
function parsePending(metadata: string | undefined): { end: number; nonce: string } | null {
  if (!metadata || !metadata.startsWith(PENDING_PREFIX)) return null;
  const [endText, nonce = ''] = metadata.slice(PENDING_PREFIX.length).split(':');
  const end = Number(endText);
  return Number.isSafeInteger(end) && end >= 0 && /^[0-9a-f]*$/.test(nonce) ? { end, nonce } : null;
}

function pendingMeta(b: Batch): string {
  return `${PENDING_PREFIX}${b.end}${b.nonce ? ':' + b.nonce : ''}`;
}

/**
 * A batch's deduplication token names its offsets and a nonce drawn when the batch was first
 * formed and kept in the pending commit: a retry after a crash rebuilds the same batch with
 * the same nonce, so ClickHouse drops the repeat; a batch formed anew over the same offsets
 * (a replay after the store lost data) is not mistaken for one it has seen. What is stored
 * already is the ingest ledger's business, not the token's.
 */
function newNonce(): string {
  return randomBytes(6).toString('hex');
}

/** A batch's tables as [table, rows or raw body, row count]. */
function batchEntries(sink: BatchSink): Array<[string, Buffer | Row[], number]> {
  if (!(sink instanceof RowSink)) return sink.entries();
  return [...sink.entries()].map(([table, rows]): [string, Row[], number] => [table, rows, rows.length]);
}

function errorInfo(err: unknown): { err: string } {
  return { err: err instanceof Error ? err.message : String(err) };
}

function validate(options: StorageConsumerOptions): void {
  const positive = (name: string, v: number | undefined) => {
    if (v !== undefined && (!Number.isFinite(v) || v <= 0)) throw new Error(`storage consumer: ${name} must be a positive number, got ${v}`);
  };
  positive('batchMaxRows', options.batchMaxRows);
  positive('batchMaxMs', options.batchMaxMs);
  positive('pollMaxRecords', options.pollMaxRecords);
  positive('retryBaseMs', options.retryBaseMs);
  positive('retryMaxMs', options.retryMaxMs);
  if (options.insertFormat !== undefined && !RAW_FORMATS.includes(options.insertFormat)) {
    throw new Error(`storage consumer: insertFormat must be one of ${RAW_FORMATS.join(', ')}, got ${JSON.stringify(options.insertFormat)}`);
  }
  for (const t of options.topics ?? []) {
    if (!(t in RECORD_MAPPERS)) throw new Error(`storage consumer: topics: unknown signal topic '${t}' (expected traces, metrics or logs)`);
  }
}

export function createStorageConsumer(options: StorageConsumerOptions): StorageConsumer {
  validate(options);
  const { bus, store, logger } = options;
  const groupId = options.groupId ?? 'storage';
  const topics = options.topics ?? ['traces', 'metrics', 'logs'];
  const batchMaxRows = options.batchMaxRows ?? 50_000;
  const batchMaxMs = options.batchMaxMs ?? 2_000;
  // A bus record is a whole export request (often hundreds of items), so polls stay small.
  const pollMaxRecords = options.pollMaxRecords ?? 64;
  // Mapping goes on while batches are written; past this many rows waiting to be written,
  // polling pauses until the writes catch up (memory stays bounded, data waits in the bus).
  const backlogMaxRows = 2 * batchMaxRows;
  const retryBaseMs = options.retryBaseMs ?? 200;
  const retryMaxMs = options.retryMaxMs ?? 30_000;
  const metrics: ConsumerMetrics = createConsumerMetrics(options.registry);
  // Decoding straight to Native columns (or JSONEachRow text) is several times cheaper than
  // protobufjs objects -> row objects -> JSON.stringify, and chDB inserts Native blocks about 3x
  // faster than the same rows as JSON text (consumer.bench.ts); a store without raw inserts (a
  // test double) gets row objects.
  const insertRaw = store.insertRaw?.bind(store);
  const insertFormat: RawFormat = options.insertFormat ?? 'Native';
  const rawMappers = insertFormat === 'Native' ? NATIVE_MAPPERS : WIRE_MAPPERS;
  const newSink = (): BatchSink => (!insertRaw ? new RowSink() : insertFormat === 'Native' ? new NativeRowSink() : new TextRowSink());

  const ledger = options.ledger === false ? null : new IngestLedger(store, groupId);

  const partitions = new Map<string, PartitionState>();
  const waiters: FlushWaiter[] = [];
  let consumer: Consumer | null = null;
  let running = false;
  let loop: Promise<void> | null = null;
  let flushRequested = false;
  const sleepers = new Set<() => void>();

  /** Retry delays; stop() cuts them short. */
  function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        sleepers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      sleepers.add(done);
    });
  }

  function checkWaiters(): void {
    for (let i = waiters.length - 1; i >= 0; i--) {
      const w = waiters[i];
      if (w.targets.every(([st, target]) => st.committedEnd >= target || partitions.get(st.key) !== st)) {
        waiters.splice(i, 1);
        w.resolve();
      }
    }
  }

  async function initPartition(topic: string, partition: number): Promise<PartitionState> {
    const committed = await consumer!.committed({ topic, partition });
    const pending = parsePending(committed?.metadata);
    const from = committed?.offset ?? 0;
    // Retried like a failed insert: without the ledger a replay could store rows twice.
    let covered: CoveredRanges | null = null;
    for (let delay = retryBaseMs; ledger && covered === null; delay = Math.min(delay * 2, retryMaxMs)) {
      try {
        covered = await ledger.load(topic, partition, from);
      } catch (err) {
        if (!running) throw err;
        logger?.warn({ topic, partition, retryInMs: delay, ...errorInfo(err) }, 'ingest ledger unreadable; retrying');
        await sleep(delay);
      }
    }
    if (covered && covered.size > 0) logger?.info({ topic, partition, from, ranges: covered.size }, 'skipping offset ranges the ingest ledger says are stored');
    const st: PartitionState = {
      key: keyOf(topic, partition),
      topic: topic as Signal,
      partition,
      mapper: (insertRaw ? rawMappers[topic as Signal] : RECORD_MAPPERS[topic as Signal]) as PartitionState['mapper'],
      open: null,
      sealed: [],
      replay: pending !== null && committed && committed.offset < pending.end ? { start: committed.offset, end: pending.end, nonce: pending.nonce } : null,
      covered: covered && covered.size > 0 ? covered : null,
      committedMeta: committed?.metadata || null,
      committedEnd: committed?.offset ?? 0,
      polledEnd: committed?.offset ?? 0,
    };
    if (st.replay) logger?.info({ topic, partition, ...st.replay }, 'replaying a batch left pending by a previous run');
    partitions.set(st.key, st);
    return st;
  }

  function seal(st: PartitionState): void {
    const b = st.open;
    if (!b) return;
    if (b.fixedEnd !== null) b.end = b.fixedEnd;
    st.sealed.push(b);
    st.open = null;
  }

  function addRecord(st: PartitionState, rec: ConsumedRecord): void {
    if (rec.offset < st.polledEnd) return; // redelivered: already in a batch
    if (st.open && st.open.fixedEnd !== null && rec.offset >= st.open.fixedEnd) seal(st);
    if (!st.open) {
      const replay = st.replay;
      st.replay = null;
      const replays = replay !== null && rec.offset < replay.end;
      st.open = {
        start: replays ? replay.start : rec.offset,
        end: rec.offset,
        sink: newSink(),
        rows: 0,
        openedAt: Date.now(),
        fixedEnd: replays ? replay.end : null,
        nonce: replays ? replay.nonce : newNonce(),
      };
    }
    const batch = st.open;
    const tenant = rec.headers[HEADER_TENANT];
    if (st.covered !== null && st.covered.covers(rec.offset)) {
      metrics.recordSkipped();
    } else if (!tenant) {
      metrics.recordDropped('tenant');
      logger?.error({ topic: rec.topic, partition: rec.partition, offset: rec.offset }, 'bus record without tenant header: skipped');
    } else {
      try {
        batch.rows += st.mapper(rec.value, tenant, batch.sink);
      } catch (err) {
        metrics.recordDropped('decode');
        logger?.error({ topic: rec.topic, partition: rec.partition, offset: rec.offset, ...errorInfo(err) }, 'bus record could not be decoded: skipped');
      }
    }
    batch.end = rec.offset + 1;
    st.polledEnd = rec.offset + 1;
    if (batch.fixedEnd !== null ? batch.end >= batch.fixedEnd : batch.rows >= batchMaxRows) seal(st);
  }

  function owned(st: PartitionState): boolean {
    return partitions.get(st.key) === st;
  }

  async function commit(st: PartitionState, offset: number, metadata: string | undefined): Promise<void> {
    await consumer!.commit([{ topic: st.topic, partition: st.partition, offset, metadata }]);
    st.committedMeta = metadata ?? null;
  }

  /** One attempt at writing a batch; throws on failure (the caller retries). */
  async function writeBatch(st: PartitionState, b: Batch, next: Batch | undefined): Promise<void> {
    const pending = pendingMeta(b);
    if (b.rows > 0) {
      if (st.committedMeta !== pending) await commit(st, b.start, pending);
      const tokenBase = `${st.topic}:${st.partition}:${b.start}:${b.end}:${b.nonce ? b.nonce + ':' : ''}`;
      for (const [table, rows, count] of batchEntries(b.sink)) {
        if (!owned(st)) return;
        const t0 = performance.now();
        try {
          const insertOptions = { dedupToken: tokenBase + table };
          if (Buffer.isBuffer(rows)) await insertRaw!(table, insertFormat, rows, insertOptions);
          else await store.insert(table, rows, insertOptions);
        } catch (err) {
          metrics.insertError(table);
          throw err;
        }
        metrics.insertDuration(table, (performance.now() - t0) / 1000);
        metrics.rowsWritten(table, count);
      }
      metrics.batch(st.topic, b.rows);
      if (ledger && owned(st)) await ledger.record(st.topic, st.partition, b.start, b.end, b.rows);
    }
    if (!owned(st)) return;
    // Done with this batch; when the next one is waiting and contiguous, pre-commit it in the same write.
    const nextMeta = next && next.rows > 0 && next.start === b.end ? pendingMeta(next) : undefined;
    await commit(st, b.end, nextMeta);
    st.committedEnd = b.end;
    checkWaiters();
  }

  /** Writes a partition's sealed batches in order, retrying each until it lands (or we stop / lose the partition). */
  async function flushPartition(st: PartitionState, retry: boolean): Promise<void> {
    while (st.sealed.length > 0) {
      const b = st.sealed[0];
      let delay = retryBaseMs;
      for (let attempt = 1; ; attempt++) {
        if (!owned(st)) return;
        try {
          await writeBatch(st, b, st.sealed[1]);
          break;
        } catch (err) {
          if (!retry || !running) {
            logger?.warn({ topic: st.topic, partition: st.partition, start: b.start, end: b.end, ...errorInfo(err) }, 'storage write failed while stopping; the batch stays in the bus');
            return;
          }
          logger?.warn(
            { topic: st.topic, partition: st.partition, start: b.start, end: b.end, rows: b.rows, attempt, retryInMs: delay, ...errorInfo(err) },
            'storage write failed; retrying the same batch',
          );
          await sleep(delay);
          delay = Math.min(delay * 2, retryMaxMs);
        }
      }
      st.sealed.shift();
    }
  }

  function sealedRows(): number {
    let n = 0;
    for (const st of partitions.values()) for (const b of st.sealed) n += b.rows;
    return n;
  }

  /** Sealed batches, counting empty ones too: they still have offsets to commit. */
  function sealedBatches(): number {
    let n = 0;
    for (const st of partitions.values()) n += st.sealed.length;
    return n;
  }

  async function flushAll(retry: boolean): Promise<void> {
    const work: Promise<void>[] = [];
    for (const st of partitions.values()) if (st.sealed.length > 0) work.push(flushPartition(st, retry));
    await Promise.all(work);
  }

  function sealDue(now: number, all: boolean): number {
    let nextDeadline = Infinity;
    for (const st of partitions.values()) {
      const b = st.open;
      if (!b || b.fixedEnd !== null) continue; // a replayed batch ends only at its recorded end
      const due = b.openedAt + batchMaxMs;
      if (all || due <= now) seal(st);
      else nextDeadline = Math.min(nextDeadline, due);
    }
    return nextDeadline;
  }

  async function run(): Promise<void> {
    const c = bus.consumer({ groupId, topics });
    consumer = c;
    c.onRebalance(({ revoked }) => {
      for (const tp of revoked) partitions.delete(keyOf(tp.topic, tp.partition));
      if (revoked.length > 0) {
        logger?.info({ revoked: revoked.map((tp: TopicPartition) => keyOf(tp.topic, tp.partition)) }, 'partitions revoked; their unwritten batches are dropped');
        checkWaiters();
      }
    });
    // Writes run in the background, one pass over the partitions at a time, while the loop
    // goes on polling and mapping: decoding the next batch overlaps inserting this one.
    let flushing: Promise<void> | null = null;
    const startFlush = () => {
      if (flushing === null && sealedRows() + sealedBatches() > 0) {
        flushing = flushAll(true).finally(() => {
          flushing = null;
        });
      }
    };
    while (running) {
      const requested = flushRequested;
      flushRequested = false;
      const nextDeadline = sealDue(Date.now(), requested);
      startFlush();
      if (flushing !== null && sealedRows() >= backlogMaxRows) {
        await flushing;
        continue;
      }
      if (!running) break;
      const waitMs = Math.max(1, Math.min(flushing !== null ? 50 : 500, nextDeadline - Date.now()));
      let records: ConsumedRecord[];
      try {
        records = await c.poll({ maxRecords: pollMaxRecords, maxWaitMs: waitMs });
      } catch (err) {
        logger?.warn(errorInfo(err), 'bus poll failed; retrying');
        await sleep(retryBaseMs);
        continue;
      }
      for (const rec of records) {
        let st = partitions.get(keyOf(rec.topic, rec.partition));
        if (!st) {
          if (!(rec.topic in RECORD_MAPPERS)) {
            metrics.recordDropped('topic');
            continue;
          }
          st = await initPartition(rec.topic, rec.partition);
        }
        addRecord(st, rec);
      }
    }
    if (flushing !== null) await flushing;
    // Stopping: write what is complete, once, without waiting out a failing store.
    sealDue(Date.now(), true);
    await flushAll(false);
    await c.close();
    consumer = null;
  }

  return {
    start() {
      if (running || loop) throw new Error('storage consumer: already started');
      running = true;
      loop = run().catch((err) => {
        running = false;
        logger?.error(errorInfo(err), 'storage consumer stopped on an unexpected error');
        throw err;
      });
      loop.catch(() => {});
    },
    async stop() {
      if (!loop) return;
      running = false;
      for (const wakeUp of Array.from(sleepers)) wakeUp();
      try {
        await loop;
      } finally {
        loop = null;
        for (const w of waiters.splice(0)) {
          if (w.targets.every(([st, target]) => st.committedEnd >= target)) w.resolve();
          else w.reject(new Error('storage consumer stopped before everything polled was written'));
        }
      }
    },
    flushed() {
      const targets: Array<[PartitionState, number]> = [];
      for (const st of partitions.values()) if (st.polledEnd > st.committedEnd) targets.push([st, st.polledEnd]);
      if (targets.length === 0) return Promise.resolve();
      flushRequested = true;
      return new Promise<void>((resolve, reject) => waiters.push({ targets, resolve, reject }));
    },
  };
}
