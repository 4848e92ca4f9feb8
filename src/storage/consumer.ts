/**
 * The storage consumer: bus records -> micro-batches of rows -> ClickHouse, exactly once.
 *
 * Exactly-once in the store across a kill -9 at any moment, per partition and batch
 * [start, end) of offsets:
 *   1. commit offset=start with metadata `pending:<end>` (durable before any insert);
 *   2. insert every table of the batch with dedupToken `<topic>:<partition>:<start>:<end>:<table>`;
 *   3. commit offset=end (no metadata).
 * A restarted (or newly assigned) consumer that finds `pending:<end>` rebuilds exactly
 * [start, end) as its first batch of that partition, so every re-insert carries the token of
 * the one that may have landed, and ClickHouse drops it (non_replicated_deduplication_window).
 * Step 3 of one batch and step 1 of the next are merged into one commit when the next batch is
 * already waiting and starts where this one ends.
 *
 * The store failing never loses data: the batch is kept and retried with exponential backoff,
 * and polling stops meanwhile (the data waits in the bus). Offsets are committed only after
 * the inserts succeeded.
 */
import type { Registry } from 'prom-client';
import type { Bus, ConsumedRecord, Consumer, TopicPartition } from '../bus/types.ts';
import { HEADER_TENANT } from '../bus/topics.ts';
import type { Signal } from '../telemetry/signals.ts';
import { createConsumerMetrics, type ConsumerMetrics } from './consumer-metrics.ts';
import { RECORD_MAPPERS, type Row } from './rows/index.ts';
import { RowSink } from './rows/sink.ts';
import { TextRowSink, WIRE_MAPPERS } from './rows/wire/index.ts';
import type { Store } from './store.ts';

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
}

export interface StorageConsumer {
  start(): void;
  /** Writes what was polled (one attempt), commits, closes the bus consumer. */
  stop(): Promise<void>;
  /** Resolves once everything polled so far is inserted and committed (for tests). */
  flushed(): Promise<void>;
}

const PENDING_PREFIX = 'pending:';

interface Batch {
  start: number;
  /** One past the last offset in the batch. */
  end: number;
  /** JSONEachRow text when the store takes raw inserts, else row objects. */
  sink: TextRowSink | RowSink;
  rows: number;
  openedAt: number;
  /** Set when the batch re-plays a pending [start, end) and must end exactly there. */
  fixedEnd: number | null;
}

interface PartitionState {
  key: string;
  topic: Signal;
  partition: number;
  mapper: (bytes: Buffer, tenant: string, sink: TextRowSink | RowSink) => number;
  open: Batch | null;
  sealed: Batch[];
  /** A pending range found at assignment, replayed by the partition's first batch. */
  replay: { start: number; end: number } | null;
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

function parsePending(metadata: string | undefined): number | null {
  if (!metadata || !metadata.startsWith(PENDING_PREFIX)) return null;
  const end = Number(metadata.slice(PENDING_PREFIX.length));
  return Number.isSafeInteger(end) && end >= 0 ? end : null;
}

/** A batch's tables as [table, rows or JSONEachRow body, row count]. */
function batchEntries(sink: TextRowSink | RowSink): Array<[string, Buffer | Row[], number]> {
  if (sink instanceof TextRowSink) return sink.entries();
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
  // Decoding straight to JSONEachRow text is several times cheaper than protobufjs objects ->
  // row objects -> JSON.stringify; a store without raw inserts (a test double) gets row objects.
  const insertRaw = store.insertRaw?.bind(store);
  const newSink = () => (insertRaw ? new TextRowSink() : new RowSink());

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
    const pendingEnd = parsePending(committed?.metadata);
    const st: PartitionState = {
      key: keyOf(topic, partition),
      topic: topic as Signal,
      partition,
      mapper: (insertRaw ? WIRE_MAPPERS[topic as Signal] : RECORD_MAPPERS[topic as Signal]) as PartitionState['mapper'],
      open: null,
      sealed: [],
      replay: pendingEnd !== null && committed && committed.offset < pendingEnd ? { start: committed.offset, end: pendingEnd } : null,
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
      };
    }
    const batch = st.open;
    const tenant = rec.headers[HEADER_TENANT];
    if (!tenant) {
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
    const pending = PENDING_PREFIX + b.end;
    if (b.rows > 0) {
      if (st.committedMeta !== pending) await commit(st, b.start, pending);
      const tokenBase = `${st.topic}:${st.partition}:${b.start}:${b.end}:`;
      for (const [table, rows, count] of batchEntries(b.sink)) {
        if (!owned(st)) return;
        const t0 = performance.now();
        try {
          const insertOptions = { dedupToken: tokenBase + table };
          if (Buffer.isBuffer(rows)) await insertRaw!(table, 'JSONEachRow', rows, insertOptions);
          else await store.insert(table, rows, insertOptions);
        } catch (err) {
          metrics.insertError(table);
          throw err;
        }
        metrics.insertDuration(table, (performance.now() - t0) / 1000);
        metrics.rowsWritten(table, count);
      }
      metrics.batch(st.topic, b.rows);
    }
    if (!owned(st)) return;
    // Done with this batch; when the next one is waiting and contiguous, pre-commit it in the same write.
    const nextMeta = next && next.rows > 0 && next.start === b.end ? PENDING_PREFIX + next.end : undefined;
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
