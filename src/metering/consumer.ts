/**
 * The metering consumer: a consumer group of its own on the telemetry topics, counting events
 * and bytes per tenant, signal and hour into the usage table. It reads headers and value
 * lengths only, never decodes a payload.
 *
 * Exactly once under at-least-once delivery, with the storage consumer's protocol (see
 * src/storage/consumer.ts), per partition and batch [start, end) of offsets:
 *   1. commit offset=start with metadata `pending:<end>` (durable before the insert);
 *   2. insert the batch's rows with dedupToken `usage:<topic>:<partition>:<start>:<end>`;
 *   3. commit offset=end.
 * A restarted (or newly assigned) consumer finding `pending:<end>` re-forms exactly
 * [start, end) as that partition's first batch, so a repeated insert carries the same token
 * and the same row keys: ClickHouse drops it, and the table engine would replace it (schema.ts).
 *
 * Writes happen between polls, so while the store fails the batch is retried with backoff and
 * nothing more is read: the data waits in the bus.
 */
import type { Registry } from 'prom-client';
import type { Bus, ConsumedRecord, Consumer } from '../bus/index.ts';
import type { Store } from '../storage/index.ts';
import { SIGNALS, type Signal } from '../telemetry/index.ts';
import { BatchCounter } from './aggregate.ts';
import { createMeteringMetrics } from './metrics.ts';
import { USAGE_TABLE } from './schema.ts';

export const METERING_GROUP = 'metering';

/** pino-compatible subset. */
export interface MeteringLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface MeteringConsumerOptions {
  bus: Bus;
  store: Store;
  /** Default `metering`. */
  groupId?: string;
  /** Default every signal topic. */
  topics?: Signal[];
  /** A partition's batch is written once its first record waited this long (default 5 s)... */
  batchMaxMs?: number;
  /** ...or once it holds this many records (default 10,000). */
  batchMaxRecords?: number;
  /** Records asked from the bus per poll (default 500; records are counted, not decoded). */
  pollMaxRecords?: number;
  /** First retry delay after a failed write; doubles up to retryMaxMs. */
  retryBaseMs?: number;
  retryMaxMs?: number;
  logger?: MeteringLogger;
  registry?: Registry;
}

export interface MeteringConsumer {
  start(): void;
  /** Writes what was polled (one attempt), commits, closes the bus consumer. */
  stop(): Promise<void>;
  /** Resolves once everything polled so far is written and committed. */
  flushed(): Promise<void>;
}

const PENDING_PREFIX = 'pending:';

interface Batch {
  start: number;
  /** One past the last offset in the batch. */
  end: number;
  counter: BatchCounter;
  records: number;
  openedAt: number;
  /** Set when the batch re-forms a pending [start, end) and must end exactly there. */
  fixedEnd: number | null;
}

interface PartitionState {
  key: string;
  topic: string;
  partition: number;
  open: Batch | null;
  sealed: Batch[];
  /** A pending range found at assignment, re-formed by the partition's first batch. */
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

function errorInfo(err: unknown): { err: string } {
  return { err: err instanceof Error ? err.message : String(err) };
}

function validate(options: MeteringConsumerOptions): void {
  for (const name of ['batchMaxMs', 'batchMaxRecords', 'pollMaxRecords', 'retryBaseMs', 'retryMaxMs'] as const) {
    const v = options[name];
    if (v !== undefined && (!Number.isFinite(v) || v <= 0)) throw new Error(`metering consumer: ${name} must be a positive number, got ${v}`);
  }
  for (const t of options.topics ?? []) {
    if (!SIGNALS.includes(t)) throw new Error(`metering consumer: topics: unknown signal topic '${t}' (expected traces, metrics or logs)`);
  }
}

export function createMeteringConsumer(options: MeteringConsumerOptions): MeteringConsumer {
  validate(options);
  const { bus, store, logger } = options;
  const groupId = options.groupId ?? METERING_GROUP;
  const topics = options.topics ?? [...SIGNALS];
  const batchMaxMs = options.batchMaxMs ?? 5_000;
  const batchMaxRecords = options.batchMaxRecords ?? 10_000;
  const pollMaxRecords = options.pollMaxRecords ?? 500;
  const retryBaseMs = options.retryBaseMs ?? 200;
  const retryMaxMs = options.retryMaxMs ?? 30_000;
  const metrics = createMeteringMetrics(options.registry);

  const partitions = new Map<string, PartitionState>();
  const waiters: FlushWaiter[] = [];
  const sleepers = new Set<() => void>();
  let consumer: Consumer | null = null;
  let running = false;
  let loop: Promise<void> | null = null;
  let flushRequested = false;

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

  function owned(st: PartitionState): boolean {
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

  async function initPartition(topic: string, partition: number): Promise<PartitionState> {
    const committed = await consumer!.committed({ topic, partition });
    const pendingEnd = parsePending(committed?.metadata);
    const st: PartitionState = {
      key: keyOf(topic, partition),
      topic,
      partition,
      open: null,
      sealed: [],
      replay: pendingEnd !== null && committed && committed.offset < pendingEnd ? { start: committed.offset, end: pendingEnd } : null,
      committedMeta: committed?.metadata || null,
      committedEnd: committed?.offset ?? 0,
      polledEnd: committed?.offset ?? 0,
    };
    if (st.replay) logger?.info({ topic, partition, ...st.replay }, 'metering: re-forming a batch left pending by a previous run');
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
        counter: new BatchCounter(),
        records: 0,
        openedAt: Date.now(),
        fixedEnd: replays ? replay.end : null,
      };
    }
    const batch = st.open;
    const outcome = batch.counter.add(rec);
    if (outcome !== 'counted') metrics.recordIncomplete(outcome);
    if (outcome === 'no-tenant') logger?.error({ topic: rec.topic, partition: rec.partition, offset: rec.offset }, 'metering: bus record without tenant header: not counted');
    batch.records++;
    batch.end = rec.offset + 1;
    st.polledEnd = rec.offset + 1;
    if (batch.fixedEnd !== null ? batch.end >= batch.fixedEnd : batch.records >= batchMaxRecords) seal(st);
  }

  async function commit(st: PartitionState, offset: number, metadata: string | undefined): Promise<void> {
    await consumer!.commit([{ topic: st.topic, partition: st.partition, offset, metadata }]);
    st.committedMeta = metadata ?? null;
  }

  /** One attempt at writing a batch; throws on failure (the caller retries). */
  async function writeBatch(st: PartitionState, b: Batch, next: Batch | undefined): Promise<void> {
    const rows = b.counter.rows(st.topic, st.partition, b.start, b.end);
    if (rows.length > 0) {
      const pending = PENDING_PREFIX + b.end;
      if (st.committedMeta !== pending) await commit(st, b.start, pending);
      if (!owned(st)) return;
      try {
        await store.insert(USAGE_TABLE, rows, { dedupToken: `usage:${st.topic}:${st.partition}:${b.start}:${b.end}` });
      } catch (err) {
        metrics.insertError();
        throw err;
      }
      metrics.rowsWritten(rows.length);
    }
    if (!owned(st)) return;
    // Done with this batch; when the next one is waiting and contiguous, pre-commit it in the same write.
    const nextMeta = next && next.counter.size > 0 && next.start === b.end ? PENDING_PREFIX + next.end : undefined;
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
            logger?.warn({ topic: st.topic, partition: st.partition, start: b.start, end: b.end, ...errorInfo(err) }, 'metering: write failed while stopping; the batch stays in the bus');
            return;
          }
          logger?.warn({ topic: st.topic, partition: st.partition, start: b.start, end: b.end, attempt, retryInMs: delay, ...errorInfo(err) }, 'metering: write failed; retrying the same batch');
          await sleep(delay);
          delay = Math.min(delay * 2, retryMaxMs);
        }
      }
      st.sealed.shift();
    }
  }

  async function flushAll(retry: boolean): Promise<void> {
    for (const st of partitions.values()) if (st.sealed.length > 0) await flushPartition(st, retry);
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
    c.onRebalance(({ revoked }) => {
      for (const tp of revoked) partitions.delete(keyOf(tp.topic, tp.partition));
      if (revoked.length > 0) checkWaiters();
    });
    while (running) {
      const requested = flushRequested;
      flushRequested = false;
      const nextDeadline = sealDue(Date.now(), requested);
      await flushAll(true);
      if (!running) break;
      const waitMs = Math.max(1, Math.min(500, nextDeadline - Date.now()));
      let records: ConsumedRecord[];
      try {
        records = await c.poll({ maxRecords: pollMaxRecords, maxWaitMs: waitMs });
      } catch (err) {
        logger?.warn(errorInfo(err), 'metering: bus poll failed; retrying');
        await sleep(retryBaseMs);
        continue;
      }
      for (const rec of records) {
        const st = partitions.get(keyOf(rec.topic, rec.partition)) ?? (await initPartition(rec.topic, rec.partition));
        addRecord(st, rec);
      }
    }
    // Stopping: write what was polled, once, without waiting out a failing store.
    sealDue(Date.now(), true);
    await flushAll(false);
    await c.close();
    consumer = null;
  }

  return {
    start() {
      if (running || loop) throw new Error('metering consumer: already started');
      running = true;
      loop = run().catch((err) => {
        running = false;
        logger?.error(errorInfo(err), 'metering consumer stopped on an unexpected error');
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
          else w.reject(new Error('metering consumer stopped before everything polled was written'));
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
