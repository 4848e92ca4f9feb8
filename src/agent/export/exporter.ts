/**
 * The agent's exporter, a write-ahead disk buffer in front of OTLP/HTTP (Vector's design):
 * every batch is first made durable in the buffer (the embedded bus, one topic of one
 * partition, capped at capBytes), and a sender loop delivers the buffer to the gateway oldest
 * first. A gateway that is down or refusing only makes the buffer longer, never the process
 * bigger; a full buffer drops its oldest data. Receivers' checkpoints travel in the same
 * durable write as their data.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createEmbeddedBus } from '../../bus/index.ts';
import type { Bus } from '../../bus/index.ts';
import { encodeRequest } from '../../otlp/index.ts';
import { SIGNALS } from '../../telemetry/index.ts';
import type { ComponentStats, Exporter, Telemetry } from '../types.ts';
import { BUFFER_TOPIC, readRecordMeta, toBufferRecord } from './buffer-record.ts';
import type { RecordMeta } from './buffer-record.ts';
import { CheckpointStore } from './checkpoint-store.ts';
import { resolveOptions } from './options.ts';
import type { ExporterOptions, ResolvedOptions } from './options.ts';
import { EXPORTER_GROUP, Sender } from './sender.ts';
import { WriteGate } from './write-gate.ts';

export interface BufferedExporter extends Exporter {
  /** The last problem talking to the gateway, for status output; undefined when none yet. */
  lastError(): string | undefined;
}

/** Kafka's retention.ms=-1: only the size cap deletes buffered data, however old. */
const KEEP_BY_AGE_FOREVER = -1;
/** Retention runs at each segment roll; this periodic pass is only a backstop. */
const RETENTION_CHECK_MS = 60_000;

export async function createBufferedExporter(options: ExporterOptions): Promise<BufferedExporter> {
  const resolved = resolveOptions(options);
  fs.mkdirSync(resolved.dir, { recursive: true });
  const bus = await createEmbeddedBus({
    dir: resolved.dir,
    segmentBytes: resolved.segmentBytes,
    retentionCheckIntervalMs: RETENTION_CHECK_MS,
    logger: {
      info() {},
      warn: (obj, msg) => resolved.log(`buffer: ${msg ?? ''} ${JSON.stringify(obj)}`),
    },
  });
  try {
    await bus.ensureTopics([{ name: BUFFER_TOPIC, partitions: 1, retentionMs: KEEP_BY_AGE_FOREVER, retentionBytes: resolved.capBytes }]);
    const checkpoints = await CheckpointStore.open(resolved.dir);
    const last = await readLastRecordMeta(bus);
    if (last?.checkpoint !== undefined && checkpoints.offer(last.checkpoint)) {
      // The process died between the record's write and the file's update: finish the update.
      await checkpoints.persist();
    }
    // Idempotency keys name the buffer's incarnation, so a retry after a restart keeps its key.
    const bufferId = await bus.topicId(BUFFER_TOPIC);
    return new BufferedExporterImpl(bus, resolved, checkpoints, last?.itemsTotal ?? 0, bufferId);
  } catch (err) {
    await bus.close().catch(() => undefined);
    throw err;
  }
}

/** The newest record of the buffer's meta, or null when the buffer is empty. */
async function readLastRecordMeta(bus: Bus): Promise<RecordMeta | null> {
  const [lag] = await bus.lag(EXPORTER_GROUP, BUFFER_TOPIC);
  if (lag.highWatermark === 0) return null;
  // A group that never commits: only reads, leaves no trace.
  const reader = bus.consumer({ groupId: 'exporter-open', topics: [BUFFER_TOPIC] });
  try {
    reader.seek({ topic: BUFFER_TOPIC, partition: 0 }, lag.highWatermark - 1);
    const [record] = await reader.poll({ maxRecords: 1, maxWaitMs: 0 });
    return record === undefined ? null : readRecordMeta(record);
  } finally {
    await reader.close();
  }
}

class BufferedExporterImpl implements BufferedExporter {
  readonly name = 'exporter';
  private readonly bus: Bus;
  private readonly options: ResolvedOptions;
  private readonly checkpoints: CheckpointStore;
  private readonly gate = new WriteGate();
  private readonly sender: Sender;
  /** items.total of the newest record written: the running count of items buffered. */
  private itemsTotal: number;
  private bufferedBatches = 0;
  private bufferedBytes = 0;
  private refreshing: Promise<void> | null = null;
  private refreshAgain = false;
  /** When the buffer folder was last measured, and the timer of the next measurement. */
  private measuredAt = -Infinity;
  private measureTimer: NodeJS.Timeout | null = null;
  private stopping: Promise<void> | null = null;

  constructor(bus: Bus, options: ResolvedOptions, checkpoints: CheckpointStore, itemsTotal: number, bufferId: string) {
    this.bus = bus;
    this.options = options;
    this.checkpoints = checkpoints;
    this.itemsTotal = itemsTotal;
    const consumer = bus.consumer({ groupId: EXPORTER_GROUP, topics: [BUFFER_TOPIC] });
    this.sender = new Sender(consumer, options, () => this.refreshBufferStats(), bufferId);
    this.sender.start();
    this.refreshBufferStats();
  }

  async consume(batch: Telemetry): Promise<void> {
    if (this.stopping !== null) throw new Error('exporter: stopped; the batch was not taken');
    validateBatch(batch);
    const encoded = encodeRequest(batch.signal, batch.request);
    const checkpoint = batch.checkpoint;
    if (checkpoint === undefined) {
      await this.gate.shared(() => this.write(encoded, batch, undefined));
    } else {
      await this.gate.exclusive(async () => {
        const stored = { source: checkpoint.source, state: checkpoint.state, seq: this.checkpoints.lastSeq + 1 };
        await this.write(encoded, batch, stored);
        this.checkpoints.offer(stored);
        try {
          await this.checkpoints.persist();
        } catch (err) {
          // The checkpoint is durable in its record; the next update of the file includes it.
          this.options.log(`could not update checkpoints.json (${(err as Error).message}); the checkpoint is kept in the buffer record`);
        }
      });
    }
    this.refreshBufferStats();
  }

  private write(encoded: Uint8Array, batch: Telemetry, checkpoint: RecordMeta['checkpoint']): Promise<void> {
    // Counted right at produce, which appends in call order, so totals rise along the log.
    this.itemsTotal += batch.items;
    const meta: RecordMeta = { signal: batch.signal, items: batch.items, itemsTotal: this.itemsTotal };
    if (checkpoint !== undefined) meta.checkpoint = checkpoint;
    return this.bus.produce(BUFFER_TOPIC, [toBufferRecord(encoded, meta)]);
  }

  async lastCheckpoint(source: string): Promise<string | undefined> {
    return this.checkpoints.get(source)?.state;
  }

  lastError(): string | undefined {
    return this.sender.lastError;
  }

  stats(): ComponentStats {
    return { bufferedBatches: this.bufferedBatches, bufferedBytes: this.bufferedBytes, ...this.sender.counters };
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await this.sender.stop();
      await this.gate.drain();
      if (this.measureTimer !== null) clearTimeout(this.measureTimer);
      await this.refreshing;
      await this.bus.close();
    })();
    return this.stopping;
  }

  /** Recomputes the buffer's size in the background; stats() reads the last result. */
  private refreshBufferStats(): void {
    if (this.refreshing !== null) {
      this.refreshAgain = true;
      return;
    }
    this.refreshing = (async () => {
      do {
        this.refreshAgain = false;
        try {
          const [lag] = await this.bus.lag(EXPORTER_GROUP, BUFFER_TOPIC);
          this.bufferedBatches = lag.lag;
          // Walking the folder costs a dozen system calls: at most once a second (it was many
          // times a second under load), with a last walk after a burst so the figure settles.
          const sinceMs = Date.now() - this.measuredAt;
          if (sinceMs >= MEASURE_EVERY_MS) {
            this.measuredAt = Date.now();
            this.bufferedBytes = await folderBytes(this.options.dir);
          } else if (this.measureTimer === null && this.stopping === null) {
            this.measureTimer = setTimeout(() => {
              this.measureTimer = null;
              this.refreshBufferStats();
            }, MEASURE_EVERY_MS - sinceMs);
            this.measureTimer.unref();
          }
        } catch {
          // Closing: the last numbers stand.
          return;
        }
      } while (this.refreshAgain && this.stopping === null);
    })().finally(() => {
      this.refreshing = null;
    });
  }
}

function validateBatch(batch: Telemetry): void {
  if (batch === null || typeof batch !== 'object') throw new TypeError('exporter: a batch must be an object');
  if (!SIGNALS.includes(batch.signal)) throw new TypeError(`exporter: batch.signal must be one of ${SIGNALS.join(', ')}, got ${JSON.stringify(batch.signal)}`);
  if (batch.request === null || typeof batch.request !== 'object') throw new TypeError('exporter: batch.request must be an OTLP Export request object');
  if (!Number.isSafeInteger(batch.items) || batch.items < 0) throw new TypeError(`exporter: batch.items must be a whole number >= 0, got ${batch.items}`);
  const c = batch.checkpoint;
  if (c !== undefined) {
    if (c === null || typeof c !== 'object') throw new TypeError('exporter: batch.checkpoint must be an object');
    if (typeof c.source !== 'string' || c.source === '') throw new TypeError('exporter: batch.checkpoint.source must be a non-empty string');
    if (typeof c.state !== 'string') throw new TypeError('exporter: batch.checkpoint.state must be a string');
  }
}

const MEASURE_EVERY_MS = 1000;

/** Bytes of the files under a folder (the buffer's segments, offsets and checkpoints). */
async function folderBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await fs.promises.readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    try {
      if (entry.isDirectory()) total += await folderBytes(full);
      else if (entry.isFile()) total += (await fs.promises.stat(full)).size;
    } catch {
      // Deleted by retention meanwhile.
    }
  }
  return total;
}
