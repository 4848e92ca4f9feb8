/**
 * An exactly-once batch consumer: bus records -> per-partition micro-batches -> the store. The
 * storage consumer (rows of the signal tables) and the metering consumer (usage rows) are this
 * with a different `writer`: how a record goes into an open batch and how a sealed batch is
 * written.
 *
 * Exactly-once in the store across a kill -9 at any moment, per partition and batch
 * [start, end) of offsets:
 *   1. commit offset=start with metadata `pending:<end>:<nonce>` (durable before any insert);
 *   2. the writer inserts the batch, each insert's dedupToken starting with
 *      `<topic>@<topicId>:<partition>:<start>:<end>:<nonce>:` (it appends a table name);
 *   3. record [start, end) in the ingest ledger (a table in the store, ledger.ts);
 *   4. commit offset=end (no metadata).
 * A restarted (or newly assigned) consumer that finds `pending:<end>:<nonce>` rebuilds exactly
 * [start, end) as its first batch of that partition, so every re-insert carries the token of
 * the one that may have landed, and ClickHouse drops it (the tables' deduplication window).
 * Step 4 of one batch and step 1 of the next are merged into one commit when the next batch is
 * already waiting and starts where this one ends.
 *
 * A token alone is not enough on a non-replicated table: ClickHouse logs the token before it
 * renames the new part into place, so a kill between the two keeps the token and loses the
 * rows, and the retry is dropped as a repeat of rows that do not exist. So a batch that may
 * have been written before (re-formed after a crash, or retried after a failed attempt) is
 * checked after its inserts: its rows carry the batch's id (IngestBatch), and the writer
 * counts them and writes the batch again under a new token when they are not all there
 * (checked-insert.ts).
 *
 * Beyond a retried batch, the ledger: when a partition is taken, the ranges it holds from the
 * committed offset on are loaded and their records skipped, so a group rewound by a replay, or
 * a member taking over a partition, writes nothing twice whatever the batch boundaries.
 *
 * Offsets count from 0 again when a topic is created anew (a wiped bus, a re-created Kafka
 * topic) while the store keeps what the old one had: the ledger and the tokens name the topic
 * incarnation, `<topic>@<topicId>` (the bus's topicId, read when a partition is taken), so
 * nothing of an earlier incarnation makes a new one's records look written.
 *
 * The store failing never loses data: the batch is kept and retried with exponential backoff,
 * and once the batches waiting reach twice the batch size polling pauses (the data waits in
 * the bus). Offsets are committed only after the inserts succeeded.
 */
import { randomBytes } from 'node:crypto';
import type { Bus, ConsumedRecord, Consumer, TopicPartition } from '../bus/index.ts';
import { IngestLedger, topicIncarnation, type CoveredRanges } from './ledger.ts';
import type { Store } from './store.ts';

/** pino-compatible subset. */
export interface BatchConsumerLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** A sealed batch as the writer sees it. */
export interface SealedBatch {
  topic: string;
  /**
   * The topic incarnation, `<topic>@<topicId>` (Bus.topicId), as the ingest ledger names it:
   * the same offsets of two incarnations of a topic are different records.
   */
  incarnation: string;
  partition: number;
  start: number;
  /** One past the last offset in the batch. */
  end: number;
  /** What the writer's `add` counted into it; never 0 (an empty batch is only committed). */
  units: number;
  /** `<topic>@<topicId>:<partition>:<start>:<end>:<nonce>:`: each insert's dedupToken is this plus a table name. */
  tokenBase: string;
  /**
   * The batch's id in the IngestBatch column of the rows it writes (ingestBatchOf), the same
   * on every attempt; null for a batch re-formed from a pending commit of a version without it.
   */
  ingestBatch: bigint | null;
  /**
   * An insert of this batch may have run before (a retry, a batch re-formed after a crash):
   * the writer checks after its inserts that the store holds the batch whole (checked-insert.ts).
   */
  mayBeWritten: boolean;
}

/** The per-use part of a batch consumer. `D` is what one batch accumulates (row sinks, counters). */
export interface BatchWriter<D> {
  /** An empty batch of a partition; its rows carry `ingestBatch` (SealedBatch.ingestBatch). */
  open(topic: string, partition: number, ingestBatch: bigint | null): D;
  /** Adds a record to an open batch; returns the units it added (rows, records), 0 when it yields nothing to write. */
  add(data: D, record: ConsumedRecord): number;
  /**
   * One attempt at writing a sealed batch; throws on failure (the batch is retried). Returns
   * early, without error, once `owned()` is false: the partition went to another member.
   */
  write(data: D, batch: SealedBatch, owned: () => boolean): Promise<void>;
  /** A record skipped because the ingest ledger says it is written already (a replay, a takeover). */
  recordAlreadyWritten?(): void;
  /**
   * A batch is done: written and committed, or empty and committed. Its data is never used
   * again, so its buffers may go to a later batch. (A batch dropped with a revoked partition
   * is not handed back: an insert of it may still be running.)
   */
  release?(data: D): void;
}

export interface BatchConsumerOptions<D> {
  bus: Bus;
  store: Store;
  /** Names the consumer in its errors ("storage consumer"). */
  name: string;
  groupId: string;
  topics: string[];
  /** A partition's batch is sealed once it holds this many units (what `writer.add` counts)... */
  batchMaxUnits: number;
  /** ...or once its first record waited this long. */
  batchMaxMs: number;
  /** Records asked from the bus per poll. */
  pollMaxRecords: number;
  /** First retry delay after a failed write (default 200 ms); doubles up to retryMaxMs (default 30 s). */
  retryBaseMs?: number;
  retryMaxMs?: number;
  logger?: BatchConsumerLogger;
  /** Keep the ingest ledger of the group (default true; needs the ledger table, migration 2). */
  ledger?: boolean;
  /**
   * Check a batch that may have been written before after writing it (default true;
   * checked-insert.ts). A store of replicated tables does not need it (token and part commit
   * together), and behind Distributed tables rows are not countable right after an insert.
   */
  checkRetriedWrites?: boolean;
  writer: BatchWriter<D>;
}

export interface BatchConsumer {
  start(): void;
  /** Writes what was polled (one attempt), commits, closes the bus consumer. */
  stop(): Promise<void>;
  /** Resolves once everything polled so far is written and committed (for tests). */
  flushed(): Promise<void>;
}

/** Throws naming the first option that is given but not a positive number. */
export function checkPositive(owner: string, options: Record<string, number | undefined>): void {
  for (const [name, v] of Object.entries(options)) {
    if (v !== undefined && (!Number.isFinite(v) || v <= 0)) throw new Error(`${owner}: ${name} must be a positive number, got ${v}`);
  }
}

const PENDING_PREFIX = 'pending:';

interface Batch<D> {
  start: number;
  /** One past the last offset in the batch. */
  end: number;
  data: D;
  units: number;
  /** Holds a record the ledger says is written already. */
  skipped: boolean;
  openedAt: number;
  /** Set when the batch re-forms a pending [start, end) and must end exactly there. */
  fixedEnd: number | null;
  /** Part of the deduplication token: drawn when the batch is formed, kept when it is re-formed after a crash. */
  nonce: string;
  /** An insert of it may have run: it re-forms a pending batch, or an attempt failed. */
  mayBeWritten: boolean;
}

interface PartitionState<D> {
  key: string;
  topic: string;
  /** The incarnation of the topic when the partition was taken. */
  topicId: string;
  partition: number;
  open: Batch<D> | null;
  sealed: Array<Batch<D>>;
  /** A pending range found at assignment, re-formed by the partition's first batch. */
  replay: { start: number; end: number; nonce: string } | null;
  /** Offset ranges the ledger says are written already: their records are skipped. */
  covered: CoveredRanges | null;
  /** Metadata of our last commit (so a pre-commit already made is not repeated). */
  committedMeta: string | null;
  committedEnd: number;
  polledEnd: number;
}

interface FlushWaiter<D> {
  targets: Array<[PartitionState<D>, number]>;
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

function pendingMeta(b: Batch<unknown>): string {
  return `${PENDING_PREFIX}${b.end}${b.nonce ? ':' + b.nonce : ''}`;
}

/**
 * A batch's deduplication token names its topic incarnation, its offsets and a nonce drawn
 * when the batch was first formed and kept in the pending commit: a retry after a crash
 * rebuilds the same batch with the same nonce, so ClickHouse drops the repeat; a batch formed
 * anew over the same offsets (a replay after the store lost data) is not mistaken for one it
 * has seen. The topic id is there for a pending commit that outlives its topic (commits kept
 * by name while the topic was created again): re-formed with the old nonce over the new
 * incarnation's records, it must not carry the old batch's token. What is written already is
 * the ingest ledger's business, not the token's.
 */
function newNonce(): string {
  // Seconds first, so the ids of batches written close in time are close: the IngestBatch
  // column's minmax index then finds a batch's rows in few granules.
  return (Math.floor(Date.now() / 1000) >>> 0).toString(16).padStart(8, '0') + randomBytes(4).toString('hex');
}

/**
 * The IngestBatch value of a batch's rows: its nonce as a number. Nonces of 16 hex digits are
 * drawn by newNonce; a shorter one comes from a pending commit of a version whose rows did not
 * carry the id, so that batch has none (and its rows are not checked by id).
 */
export function ingestBatchOf(nonce: string): bigint | null {
  return /^[0-9a-f]{16}$/.test(nonce) ? BigInt('0x' + nonce) : null;
}

function errorInfo(err: unknown): { err: string } {
  return { err: err instanceof Error ? err.message : String(err) };
}

export function createBatchConsumer<D>(options: BatchConsumerOptions<D>): BatchConsumer {
  const { bus, store, name, groupId, topics, batchMaxUnits, batchMaxMs, pollMaxRecords, retryBaseMs = 200, retryMaxMs = 30_000, logger, writer } = options;
  checkPositive(name, { batchMaxUnits, batchMaxMs, pollMaxRecords, retryBaseMs, retryMaxMs });
  // Adding goes on while batches are written; past this many units waiting to be written,
  // polling pauses until the writes catch up (memory stays bounded, data waits in the bus).
  const backlogMaxUnits = 2 * batchMaxUnits;
  const ledger = options.ledger === false ? null : new IngestLedger(store, groupId);
  const checkRetriedWrites = options.checkRetriedWrites ?? true;

  const partitions = new Map<string, PartitionState<D>>();
  const waiters: Array<FlushWaiter<D>> = [];
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

  function owned(st: PartitionState<D>): boolean {
    return partitions.get(st.key) === st;
  }

  function checkWaiters(): void {
    for (let i = waiters.length - 1; i >= 0; i--) {
      const w = waiters[i];
      if (w.targets.every(([st, target]) => st.committedEnd >= target || !owned(st))) {
        waiters.splice(i, 1);
        w.resolve();
      }
    }
  }

  /** Retried like a failed insert, what a partition cannot be consumed without. */
  async function retrying<T>(what: string, where: { topic: string; partition: number }, read: () => Promise<T>): Promise<T> {
    for (let delay = retryBaseMs; ; delay = Math.min(delay * 2, retryMaxMs)) {
      try {
        return await read();
      } catch (err) {
        if (!running) throw err;
        logger?.warn({ ...where, retryInMs: delay, ...errorInfo(err) }, `${what}; retrying`);
        await sleep(delay);
      }
    }
  }

  /** A partition's state as of its committed offset; the caller adds it unless the partition moved meanwhile. */
  async function initPartition(topic: string, partition: number): Promise<PartitionState<D>> {
    const where = { topic, partition };
    // Read at every assignment, not once: the topic may have been created again meanwhile.
    const topicId = await retrying('topic id unreadable', where, () => bus.topicId(topic));
    const committed = await consumer!.committed({ topic, partition });
    const pending = parsePending(committed?.metadata);
    const from = committed?.offset ?? 0;
    // Without the ranges written already, a replay could write records twice.
    const covered = ledger ? await retrying('ingest ledger unreadable', where, () => ledger.load(topic, topicId, partition, from)) : null;
    if (covered && covered.size > 0) logger?.info({ topic, topicId, partition, from, ranges: covered.size }, 'skipping offset ranges the ingest ledger says are written');
    const st: PartitionState<D> = {
      key: keyOf(topic, partition),
      topic,
      topicId,
      partition,
      open: null,
      sealed: [],
      replay: pending !== null && committed && committed.offset < pending.end ? { start: committed.offset, end: pending.end, nonce: pending.nonce } : null,
      covered: covered && covered.size > 0 ? covered : null,
      committedMeta: committed?.metadata || null,
      committedEnd: from,
      polledEnd: from,
    };
    if (st.replay) logger?.info({ topic, partition, ...st.replay }, 'replaying a batch left pending by a previous run');
    return st;
  }

  function seal(st: PartitionState<D>): void {
    const b = st.open;
    if (!b) return;
    if (b.fixedEnd !== null) b.end = b.fixedEnd;
    st.sealed.push(b);
    st.open = null;
  }

  function openBatch(st: PartitionState<D>, offset: number): Batch<D> {
    const replay = st.replay;
    st.replay = null;
    const replays = replay !== null && offset < replay.end;
    const nonce = replays ? replay.nonce : newNonce();
    const b: Batch<D> = {
      start: replays ? replay.start : offset,
      end: offset,
      data: writer.open(st.topic, st.partition, ingestBatchOf(nonce)),
      units: 0,
      skipped: false,
      openedAt: Date.now(),
      fixedEnd: replays ? replay.end : null,
      nonce,
      mayBeWritten: replays,
    };
    st.open = b;
    return b;
  }

  function addRecord(st: PartitionState<D>, rec: ConsumedRecord): void {
    if (rec.offset < st.polledEnd) return; // redelivered: already in a batch
    const covered = st.covered !== null && st.covered.covers(rec.offset);
    let b = st.open;
    if (b !== null && b.fixedEnd !== null && rec.offset >= b.fixedEnd) seal(st);
    // A batch of nothing but records written already ends where unwritten ones begin, so a
    // batch with data starts at an offset no written batch of the group started at (usage rows
    // are keyed by their batch's start: a batch re-using one would replace its counts).
    else if (b !== null && !covered && b.units === 0 && b.skipped && b.fixedEnd === null) seal(st);
    b = st.open ?? openBatch(st, rec.offset);
    if (covered) {
      b.skipped = true;
      writer.recordAlreadyWritten?.();
    } else {
      b.units += writer.add(b.data, rec);
    }
    b.end = rec.offset + 1;
    st.polledEnd = rec.offset + 1;
    if (b.fixedEnd !== null ? b.end >= b.fixedEnd : b.units >= batchMaxUnits) seal(st);
  }

  async function commit(st: PartitionState<D>, offset: number, metadata: string | undefined): Promise<void> {
    await consumer!.commit([{ topic: st.topic, partition: st.partition, offset, metadata }]);
    st.committedMeta = metadata ?? null;
  }

  /** One attempt at writing a batch; throws on failure (the caller retries). */
  async function writeBatch(st: PartitionState<D>, b: Batch<D>, next: Batch<D> | undefined): Promise<void> {
    if (b.units > 0) {
      const pending = pendingMeta(b);
      if (st.committedMeta !== pending) await commit(st, b.start, pending);
      if (!owned(st)) return;
      const incarnation = topicIncarnation(st.topic, st.topicId);
      const tokenBase = `${incarnation}:${st.partition}:${b.start}:${b.end}:${b.nonce ? b.nonce + ':' : ''}`;
      const sealed: SealedBatch = {
        topic: st.topic,
        incarnation,
        partition: st.partition,
        start: b.start,
        end: b.end,
        units: b.units,
        tokenBase,
        ingestBatch: ingestBatchOf(b.nonce),
        mayBeWritten: checkRetriedWrites && b.mayBeWritten,
      };
      await writer.write(b.data, sealed, () => owned(st));
      if (ledger && owned(st)) await ledger.record(st.topic, st.topicId, st.partition, b.start, b.end, b.units, checkRetriedWrites && b.mayBeWritten);
    }
    if (!owned(st)) return;
    // Done with this batch; when the next one is waiting and contiguous, pre-commit it in the same write.
    const nextMeta = next && next.units > 0 && next.start === b.end ? pendingMeta(next) : undefined;
    await commit(st, b.end, nextMeta);
    st.committedEnd = b.end;
    checkWaiters();
  }

  /** Writes a partition's sealed batches in order, retrying each until it lands (or we stop / lose the partition). */
  async function flushPartition(st: PartitionState<D>, retry: boolean): Promise<void> {
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
            logger?.warn({ topic: st.topic, partition: st.partition, start: b.start, end: b.end, ...errorInfo(err) }, 'write failed while stopping; the batch stays in the bus');
            return;
          }
          logger?.warn(
            { topic: st.topic, partition: st.partition, start: b.start, end: b.end, units: b.units, attempt, retryInMs: delay, ...errorInfo(err) },
            'write failed; retrying the same batch',
          );
          // The failed attempt may have landed some of its inserts, or logged their tokens only.
          b.mayBeWritten = true;
          await sleep(delay);
          delay = Math.min(delay * 2, retryMaxMs);
        }
      }
      st.sealed.shift();
      writer.release?.(b.data);
    }
  }

  function sealedUnits(): number {
    let n = 0;
    for (const st of partitions.values()) for (const b of st.sealed) n += b.units;
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

  /** Seals batches that are old enough (all of them when asked); returns the next deadline. */
  function sealDue(now: number, all: boolean): number {
    let nextDeadline = Infinity;
    for (const st of partitions.values()) {
      const b = st.open;
      if (!b || b.fixedEnd !== null) continue; // a re-formed batch ends only at its recorded end
      const due = b.openedAt + batchMaxMs;
      if (all || due <= now) seal(st);
      else nextDeadline = Math.min(nextDeadline, due);
    }
    return nextDeadline;
  }

  async function run(): Promise<void> {
    const c = bus.consumer({ groupId, topics });
    consumer = c;
    // Partitions revoked or assigned since the current poll returned. The poll's remaining
    // records of such a partition are stale: its state is gone, and a state started anew would
    // begin at its committed offset, so adding them would leave a gap before them. The bus
    // delivers them again from the committed offset to whoever owns the partition now.
    const moved = new Set<string>();
    c.onRebalance(({ assigned, revoked }) => {
      for (const tp of assigned) moved.add(keyOf(tp.topic, tp.partition));
      for (const tp of revoked) {
        moved.add(keyOf(tp.topic, tp.partition));
        partitions.delete(keyOf(tp.topic, tp.partition));
      }
      if (revoked.length > 0) {
        logger?.info({ revoked: revoked.map((tp: TopicPartition) => keyOf(tp.topic, tp.partition)) }, 'partitions revoked; their unwritten batches are dropped');
        checkWaiters();
      }
    });
    // Writes run in the background, one pass over the partitions at a time, while the loop
    // goes on polling and adding: preparing the next batch overlaps writing this one.
    let flushing: Promise<void> | null = null;
    const startFlush = () => {
      if (flushing === null && sealedBatches() > 0) {
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
      if (flushing !== null && sealedUnits() >= backlogMaxUnits) {
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
      // Rebalances reported before the poll returned are older than its records.
      moved.clear();
      for (const rec of records) {
        const key = keyOf(rec.topic, rec.partition);
        if (moved.has(key)) continue;
        let st = partitions.get(key);
        if (st === undefined) {
          // Awaits the bus and the ledger: a rebalance may run meanwhile (checked on every record after).
          st = await initPartition(rec.topic, rec.partition);
          if (moved.has(key)) continue;
          partitions.set(key, st);
        }
        addRecord(st, rec);
      }
    }
    if (flushing !== null) await flushing;
    // Stopping: write what was polled, once, without waiting out a failing store.
    sealDue(Date.now(), true);
    await flushAll(false);
    await c.close();
    consumer = null;
  }

  return {
    start() {
      if (running || loop) throw new Error(`${name}: already started`);
      running = true;
      loop = run().catch((err) => {
        running = false;
        logger?.error(errorInfo(err), `${name} stopped on an unexpected error`);
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
          else w.reject(new Error(`${name} stopped before everything polled was written`));
        }
      }
    },
    flushed() {
      const targets: Array<[PartitionState<D>, number]> = [];
      for (const st of partitions.values()) if (st.polledEnd > st.committedEnd) targets.push([st, st.polledEnd]);
      if (targets.length === 0) return Promise.resolve();
      flushRequested = true;
      return new Promise<void>((resolve, reject) => waiters.push({ targets, resolve, reject }));
    },
  };
}
