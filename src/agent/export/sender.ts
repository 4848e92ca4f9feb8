/**
 * The sender loop: reads the buffer topic oldest first as consumer group `exporter`, packs
 * records into requests, posts them and commits after the gateway's answer. Retryable
 * failures are retried forever, the request staying in the buffer (and only the one request
 * in memory); refused requests are dropped and counted. Records the size cap deleted before
 * they were sent show as a jump in offsets, and are counted as dropped.
 */
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import type { Consumer, TopicPartition } from '../../bus/index.ts';
import { sleep } from '../../otlp/index.ts';
import type { Signal } from '../../telemetry/index.ts';
import { pollUnlessAborted } from './abortable-poll.ts';
import { retryDelayMs } from './backoff.ts';
import { BUFFER_TOPIC, readRecordMeta } from './buffer-record.ts';
import { GatewayClient } from './gateway-client.ts';
import type { PostOutcome } from './gateway-client.ts';
import { packRequest, requestBody, requestCouldGrow } from './packing.ts';
import type { PackedRequest, PendingRecord } from './packing.ts';
import type { ResolvedOptions } from './options.ts';

const gzip = promisify(gzipCallback);
/**
 * zlib level 3, not the default 6: on the agent's log batches it took 38 % of the default's
 * CPU for a body 5 % larger (level 1: 32 % of the CPU, 17 % larger).
 */
const GZIP_OPTIONS = { level: 3 };

export const EXPORTER_GROUP = 'exporter';
const TP: TopicPartition = { topic: BUFFER_TOPIC, partition: 0 };
/** How long an idle poll waits for new records. */
const IDLE_POLL_MS = 1_000;
/** Records per poll, sized from recent record sizes so one poll stays about one request. */
const MAX_POLL_RECORDS = 256;
const INITIAL_RECORD_BYTES_GUESS = 64 * 1024;

export interface SenderCounters {
  sentBatches: number;
  sentRequests: number;
  sentItems: number;
  sentSpans: number;
  sentLogRecords: number;
  sentDataPoints: number;
  retries: number;
  droppedBatches: number;
  droppedItems: number;
  rejectedBatches: number;
  rejectedItems: number;
  gatewayUp: number;
  lastErrorAtMs: number;
}

const SENT_BY_SIGNAL: Record<Signal, 'sentSpans' | 'sentLogRecords' | 'sentDataPoints'> = {
  traces: 'sentSpans',
  logs: 'sentLogRecords',
  metrics: 'sentDataPoints',
};

export class Sender {
  readonly counters: SenderCounters = {
    sentBatches: 0,
    sentRequests: 0,
    sentItems: 0,
    sentSpans: 0,
    sentLogRecords: 0,
    sentDataPoints: 0,
    retries: 0,
    droppedBatches: 0,
    droppedItems: 0,
    rejectedBatches: 0,
    rejectedItems: 0,
    // Until an attempt fails the gateway is presumed up (an idle agent has not asked it).
    gatewayUp: 1,
    lastErrorAtMs: 0,
  };
  lastError: string | undefined;

  private readonly consumer: Consumer;
  private readonly options: ResolvedOptions;
  /** Called after each commit (the buffer shrank). */
  private readonly onCommit: () => void;
  private readonly stopController = new AbortController();
  private readonly client = new GatewayClient();
  /** Names this buffer in idempotency keys, so offsets of two agents (or two buffers) never share a key. */
  private readonly bufferId: string;
  private loop: Promise<void> | null = null;

  /** Polled, not yet committed, oldest first. */
  private pending: PendingRecord[] = [];
  private pendingBytes = 0;
  private recordBytesEstimate = INITIAL_RECORD_BYTES_GUESS;
  /** Offset the next record should have; a higher one means the cap deleted records. */
  private expectedOffset = 0;
  /** The running item count (items.total) at expectedOffset - 1. */
  private itemsTotalSeen = 0;
  /** A drop was reported and the buffer has not been drained since: no new warning. */
  private inDropEpisode = false;
  /** After a 413, requests are packed with at most this many records until one is delivered. */
  private packLimit = Infinity;

  /**
   * `bufferId`: the buffer topic's id (Bus.topicId), which lets keys survive a restart; without
   * it an id of this process, so a retry after a restart is a new request to the gateway.
   */
  constructor(consumer: Consumer, options: ResolvedOptions, onCommit: () => void, bufferId: string = randomUUID()) {
    this.consumer = consumer;
    this.options = options;
    this.onCommit = onCommit;
    this.bufferId = bufferId;
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Aborts a request in flight (its records stay uncommitted) and waits for the loop to end. */
  async stop(): Promise<void> {
    this.stopController.abort();
    await this.loop;
    this.client.close();
  }

  private get stopping(): boolean {
    return this.stopController.signal.aborted;
  }

  private async run(): Promise<void> {
    let started = false;
    let failures = 0;
    while (!this.stopping) {
      try {
        if (!started) {
          const committed = await this.consumer.committed(TP);
          this.expectedOffset = committed?.offset ?? 0;
          this.itemsTotalSeen = parseItemsTotal(committed?.metadata);
          started = true;
        }
        await this.fill();
        const request = packRequest(this.pending, this.options.maxRequestBytes, this.packLimit);
        if (request !== null) await this.deliver(request);
        failures = 0;
      } catch (err) {
        if (this.stopping) break;
        // Not the gateway (that is handled in deliver): the buffer itself failed. Keep trying.
        failures++;
        this.options.log(`buffer read or commit failed: ${(err as Error).message}`);
        await sleep(retryDelayMs(this.backoff(), failures, null), this.stopController.signal);
      }
    }
  }

  /** Reads records until a request could be made, or waits for some when the buffer is empty. */
  private async fill(): Promise<void> {
    if (this.pending.length === 0) {
      const records = await pollUnlessAborted(this.consumer.poll({ maxRecords: this.pollSize(), maxWaitMs: IDLE_POLL_MS }), this.stopController.signal);
      if (records.length === 0) {
        if (!this.stopping) this.inDropEpisode = false;
        return;
      }
      this.accept(records);
    }
    while (!this.stopping && requestCouldGrow(this.pending, this.options.maxRequestBytes)) {
      const more = await this.consumer.poll({ maxRecords: this.pollSize(), maxWaitMs: 0 });
      if (more.length === 0) return;
      this.accept(more);
    }
  }

  private pollSize(): number {
    const budget = this.options.maxRequestBytes - this.pendingBytes;
    return Math.max(1, Math.min(MAX_POLL_RECORDS, Math.floor(budget / this.recordBytesEstimate)));
  }

  private accept(records: Awaited<ReturnType<Consumer['poll']>>): void {
    for (const record of records) {
      this.recordBytesEstimate = Math.max(1, Math.round(this.recordBytesEstimate * 0.8 + record.value.length * 0.2));
      const meta = readRecordMeta(record);
      if (record.offset > this.expectedOffset) {
        const next = meta === null ? null : meta.itemsTotal - meta.items;
        this.noteDropped(record.offset - this.expectedOffset, next === null ? 0 : Math.max(0, next - this.itemsTotalSeen), record.offset);
      }
      this.expectedOffset = record.offset + 1;
      if (meta === null) {
        // Not something this exporter wrote; it cannot be sent. Count it and move past it.
        this.counters.rejectedBatches++;
        this.options.log(`buffer record at offset ${record.offset} has no signal/items headers; skipped`);
        continue;
      }
      this.itemsTotalSeen = meta.itemsTotal;
      this.pending.push({ record, meta });
      this.pendingBytes += record.value.length;
    }
  }

  private noteDropped(batches: number, items: number, resumedAt: number): void {
    this.counters.droppedBatches += batches;
    this.counters.droppedItems += items;
    if (this.inDropEpisode) return;
    this.inDropEpisode = true;
    this.options.log(
      `disk buffer full (capBytes ${this.options.capBytes}): the oldest ${batches} unsent batches (${items} items) were dropped; ` +
        `sending resumes at buffer offset ${resumedAt} (further drops until the buffer drains are only counted)`,
    );
  }

  private backoff() {
    return { baseMs: this.options.backoffBaseMs, maxMs: this.options.backoffMaxMs, random: this.options.random };
  }

  /** Posts the request until it is delivered or refused (then commits it), or the loop stops. */
  private async deliver(request: PackedRequest): Promise<void> {
    // Batches that only carry a receiver's checkpoint (no items) have nothing to send.
    if (request.items === 0) {
      await this.commit(request);
      return;
    }
    const body = await gzip(requestBody(request), GZIP_OPTIONS);
    const post = {
      url: this.options.urls[request.signal],
      apiKey: this.options.apiKey,
      timeoutMs: this.options.timeoutMs,
      // An attempt that timed out may still have been stored: the key lets the gateway take the retry as a repeat.
      idempotencyKey: idempotencyKey(this.bufferId, request),
      stop: this.stopController.signal,
    };
    let attempt = 0;
    let reported: string | null = null;
    for (;;) {
      const outcome: PostOutcome = await this.client.post(request.signal, body, post);
      if (outcome.kind === 'aborted') return;
      if (outcome.kind === 'delivered') {
        if (attempt > 0) this.options.log(`gateway accepts requests again after ${attempt + 1} attempts`);
        this.counters.gatewayUp = 1;
        this.packLimit = Infinity;
        this.countDelivered(request, outcome.rejectedItems, outcome.rejectionMessage);
        await this.commit(request);
        return;
      }
      this.counters.lastErrorAtMs = Date.now();
      this.lastError = outcome.problem;
      if (outcome.kind === 'refused') {
        this.counters.gatewayUp = 1;
        if (outcome.status === 413 && request.records.length > 1) {
          // Too large for the gateway: leave the records pending and pack fewer at a time.
          this.packLimit = Math.ceil(request.records.length / 2);
          this.options.log(`${request.signal}: ${outcome.problem}; resending its ${request.records.length} batches in smaller requests`);
          return;
        }
        this.counters.rejectedBatches += request.records.length;
        this.counters.rejectedItems += request.items;
        this.options.log(`${request.signal}: ${outcome.problem}; dropped ${request.records.length} batches (${request.items} items), not retried`);
        await this.commit(request);
        return;
      }
      attempt++;
      this.counters.retries++;
      this.counters.gatewayUp = 0;
      const waitMs = retryDelayMs(this.backoff(), attempt, outcome.retryAfterMs);
      if (outcome.problem !== reported) {
        // One line per distinct problem, not one per attempt of a long outage.
        reported = outcome.problem;
        this.options.log(`${request.signal}: ${outcome.problem}; retrying (in ${(waitMs / 1000).toFixed(1)} s), data stays in the disk buffer`);
      }
      if (!(await sleep(waitMs, this.stopController.signal))) return;
    }
  }

  private countDelivered(request: PackedRequest, rejectedItems: number, message: string): void {
    const c = this.counters;
    c.sentRequests++;
    c.sentBatches += request.records.length;
    const accepted = Math.max(0, request.items - rejectedItems);
    c.sentItems += accepted;
    c[SENT_BY_SIGNAL[request.signal]] += accepted;
    if (rejectedItems > 0) {
      c.rejectedItems += rejectedItems;
      this.options.log(`${request.signal}: the gateway rejected ${rejectedItems} of ${request.items} items${message ? ': ' + message : ''}`);
    }
  }

  /** Commits past the request even when stopping: it was answered, sending it again would repeat it. */
  private async commit(request: PackedRequest): Promise<void> {
    const last = request.records[request.records.length - 1];
    await this.consumer.commit([{ ...TP, offset: last.record.offset + 1, metadata: String(last.meta.itemsTotal) }]);
    this.pending.splice(0, request.records.length);
    this.pendingBytes -= request.bytes;
    this.onCommit();
  }
}

/** The same on every attempt of a request, and on no other request: the buffer and the offsets it packs. */
function idempotencyKey(bufferId: string, request: PackedRequest): string {
  const first = request.records[0].record;
  const last = request.records[request.records.length - 1].record;
  return `${bufferId}:${first.partition}:${first.offset}-${last.offset}`;
}

function parseItemsTotal(metadata: string | undefined): number {
  const n = Number(metadata);
  return metadata !== undefined && Number.isSafeInteger(n) ? n : 0;
}

