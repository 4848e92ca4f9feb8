/**
 * The write path: an idempotent Kafka producer (acks=all) behind a queue that merges the
 * produce calls waiting while a request is on the wire into the next request (one request per
 * leader broker, one record batch per partition), the way the embedded log shares an fsync.
 *
 * Every call is settled by its deadline. A request still unacknowledged at the earliest
 * deadline of its calls is abandoned: its calls are rejected and the producer is replaced by a
 * fresh one (new producer id), so a dead broker never wedges the queue and the bus works again
 * as soon as a broker answers, without a restart.
 */
import { Producer, type Partitioner } from '@platformatic/kafka';
import { murmur2 } from '../embedded/partitioner.ts';
import type { BusLogger } from '../embedded/logger.ts';
import type { KafkaCompression } from './options.ts';
import type { KafkaMessage } from './records.ts';
import { describeKafkaError } from './errors.ts';

/** A request merges calls up to this many bytes (a larger call goes alone). */
const MAX_REQUEST_BYTES = 8 * 1024 * 1024;
/**
 * Requests handed to the client at once. One: when a request fails for some partitions (e.g.
 * NOT_LEADER_OR_FOLLOWER while leadership moves), a second one behind it fails with
 * OUT_OF_ORDER_SEQUENCE_NUMBER, and the client's recovery resends that whole request under a
 * new producer id, duplicating the partitions that had succeeded. Calls arriving meanwhile
 * are merged into the next request, so one at a time still carries the load.
 */
const MAX_IN_FLIGHT = 1;
/**
 * @platformatic/kafka 2.12 (@platformatic/dynamic-buffer 0.3) encodes a record's timestamp
 * delta (a varint64) wrongly from 2^31 ms (~25 days) on, which corrupts the timestamp stored in
 * Kafka. A request only mixes records whose timestamps are within 2^30 ms of its first one, so
 * every delta inside a partition's batch stays below 2^31.
 */
const MAX_TIMESTAMP_SPREAD = 2n ** 30n;

/** Consecutive runs of messages whose timestamps stay within MAX_TIMESTAMP_SPREAD of the run's first. */
export function splitByTimestampSpread(messages: KafkaMessage[]): KafkaMessage[][] {
  const runs: KafkaMessage[][] = [];
  let run: KafkaMessage[] = [];
  let first = 0n;
  for (const m of messages) {
    const t = m.timestamp!;
    const d = t - first;
    if (run.length > 0 && (d > MAX_TIMESTAMP_SPREAD || d < -MAX_TIMESTAMP_SPREAD)) {
      runs.push(run);
      run = [];
    }
    if (run.length === 0) first = t;
    run.push(m);
  }
  if (run.length > 0) runs.push(run);
  return runs;
}

export interface ProduceQueueSettings {
  brokers: string[];
  clientId: string;
  compression: KafkaCompression;
  produceTimeoutMs: number;
  connectTimeoutMs: number;
  logger: BusLogger;
}

interface PendingCall {
  messages: KafkaMessage[];
  bytes: number;
  deadline: number;
  settled: boolean;
  sending: boolean;
  timer: NodeJS.Timeout | null;
  resolve(): void;
  reject(err: Error): void;
}

export class ProduceQueue {
  private readonly settings: ProduceQueueSettings;
  private readonly queue: PendingCall[] = [];
  private readonly roundRobin = new Map<string, number>();
  private producer: Producer<Buffer, Buffer, Buffer, Buffer>;
  private inFlight = 0;
  private idle: (() => void) | null = null;

  constructor(settings: ProduceQueueSettings) {
    this.settings = settings;
    this.producer = this.newProducer();
  }

  /** Kafka's default partitioner for keys; round robin per topic for null keys. */
  private readonly partition: Partitioner<Buffer, Buffer, Buffer, Buffer> = (message, key) => {
    // The client takes the result modulo the topic's partition count: toPositive(murmur2) % n,
    // the Java producer's choice (kafkaPartitionForKey).
    if (key !== undefined && key !== null) return murmur2(key) & 0x7fffffff;
    const next = this.roundRobin.get(message.topic) ?? 0;
    this.roundRobin.set(message.topic, (next + 1) & 0x7fffffff);
    return next;
  };

  private newProducer(): Producer<Buffer, Buffer, Buffer, Buffer> {
    const { brokers, clientId, compression, produceTimeoutMs, connectTimeoutMs } = this.settings;
    return new Producer<Buffer, Buffer, Buffer, Buffer>({
      clientId,
      bootstrapBrokers: brokers,
      idempotent: true,
      compression,
      partitioner: this.partition,
      connectTimeout: Math.min(connectTimeoutMs, produceTimeoutMs),
      // The broker-side wait for replicas; the client-side bound is the call deadline.
      timeout: produceTimeoutMs,
      requestTimeout: produceTimeoutMs + connectTimeoutMs,
      // Finite (an idempotent producer otherwise retries forever); the queue's deadline replaces it anyway.
      retries: 20,
      retryDelay: 100,
      metadataMaxAge: 30_000,
    });
  }

  /** Resolves once Kafka acknowledged every message (acks=all), rejects at `deadline` otherwise. */
  enqueue(messages: KafkaMessage[], bytes: number, deadline: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const call: PendingCall = { messages, bytes, deadline, settled: false, sending: false, timer: null, resolve, reject };
      call.timer = setTimeout(() => {
        if (call.sending) return; // the request's own deadline settles it
        const i = this.queue.indexOf(call);
        if (i >= 0) this.queue.splice(i, 1);
        this.settle(call, this.timeoutError('waiting for an earlier request'));
      }, Math.max(0, deadline - Date.now()));
      this.queue.push(call);
      this.kick();
    });
  }

  private settle(call: PendingCall, err: Error | null): void {
    if (call.settled) return;
    call.settled = true;
    if (call.timer !== null) clearTimeout(call.timer);
    if (err === null) call.resolve();
    else call.reject(err);
  }

  private timeoutError(detail: string): Error {
    const { produceTimeoutMs, brokers } = this.settings;
    return new Error(`produce: Kafka did not acknowledge within ${produceTimeoutMs} ms (${detail}); is a broker reachable at ${brokers.join(', ')}?`);
  }

  private kick(): void {
    if (this.queue.length === 0 && this.inFlight === 0) this.idle?.();
    while (this.inFlight < MAX_IN_FLIGHT && this.queue.length > 0) {
      const calls: PendingCall[] = [this.queue.shift()!];
      let bytes = calls[0].bytes;
      while (this.queue.length > 0 && bytes + this.queue[0].bytes <= MAX_REQUEST_BYTES) {
        const next = this.queue.shift()!;
        bytes += next.bytes;
        calls.push(next);
      }
      this.inFlight++;
      this.send(calls).finally(() => {
        this.inFlight--;
        this.kick();
      });
    }
  }

  private async send(calls: PendingCall[]): Promise<void> {
    let deadline = Infinity;
    let count = 0;
    for (const c of calls) {
      c.sending = true;
      deadline = Math.min(deadline, c.deadline);
      count += c.messages.length;
    }
    const messages = calls.length === 1 ? calls[0].messages : new Array<KafkaMessage>(count);
    if (calls.length > 1) {
      let i = 0;
      for (const c of calls) for (const m of c.messages) messages[i++] = m;
    }
    const producer = this.producer;
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<'expired'>((resolve) => {
      timer = setTimeout(() => resolve('expired'), Math.max(0, deadline - Date.now()));
    });
    try {
      const sent = (async () => {
        // In order: records of one key stay in order across runs.
        for (const run of splitByTimestampSpread(messages)) await producer.send({ messages: run });
        return 'sent' as const;
      })();
      const outcome = await Promise.race([sent, expired]);
      if (outcome === 'sent') {
        for (const c of calls) this.settle(c, null);
        return;
      }
      const err = this.timeoutError('no answer from the leader brokers');
      for (const c of calls) this.settle(c, err);
      this.settings.logger.warn({ records: count, timeoutMs: this.settings.produceTimeoutMs }, 'bus: produce timed out; starting a fresh Kafka producer');
      this.replace(producer);
    } catch (cause) {
      const err =
        producer === this.producer
          ? new Error(`produce: Kafka rejected the records: ${describeKafkaError(cause)}`, { cause })
          : this.timeoutError('an earlier request on the same connection got no answer');
      for (const c of calls) this.settle(c, err);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Abandons a producer stuck on an unanswered request (its retries stop when it closes). */
  private replace(stuck: Producer<Buffer, Buffer, Buffer, Buffer>): void {
    if (this.producer !== stuck) return;
    this.producer = this.newProducer();
    stuck.close(true).catch(() => undefined);
  }

  /** Waits for every queued call to settle (each by its deadline), then closes the producer. */
  async close(): Promise<void> {
    if (this.inFlight > 0 || this.queue.length > 0) {
      await new Promise<void>((resolve) => {
        this.idle = resolve;
      });
    }
    await this.producer.close(true).catch(() => undefined);
  }
}
