/**
 * Produce throughput of the Kafka bus: concurrent callers each sending one 100 KB record per
 * produce() call (keyed, as the gateway forwards one export request per call) to a 32-partition
 * topic, as fast as acknowledgements come back. Payloads are telemetry-like (random ids among
 * repeated attribute text), so compression does what it would do on real traffic.
 *
 *   node src/bus/kafka/kafka-bus.bench.ts [seconds=5] [compression=lz4] [callers=64] [recordKB=100]
 *
 * Needs a broker: OLLYSTACK_TEST_KAFKA (default 127.0.0.1:9092), e.g. from `scripts/services up`.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Admin } from '@platformatic/kafka';
import { createKafkaBus } from '../index.ts';
import type { KafkaCompression } from '../index.ts';

const seconds = Number(process.argv[2] ?? 5);
const compression = (process.argv[3] ?? 'lz4') as KafkaCompression;
const callers = Number(process.argv[4] ?? 64);
const recordBytes = Number(process.argv[5] ?? 100) * 1024;
const PARTITIONS = 32;
const MB = 1024 * 1024;
const broker = process.env.OLLYSTACK_TEST_KAFKA ?? '127.0.0.1:9092';

const WORDS = ['http.method', 'GET', 'POST', 'http.route', '/api/v1/orders/{id}', 'service.name', 'checkout', 'db.statement', 'SELECT * FROM orders WHERE id = ?', 'payments.internal'];

function telemetryLike(bytes: number): Buffer {
  const parts: Buffer[] = [];
  let size = 0;
  while (size < bytes) {
    const part = Buffer.concat([randomBytes(24), Buffer.from(WORDS[Math.floor(Math.random() * WORDS.length)] + WORDS[Math.floor(Math.random() * WORDS.length)])]);
    parts.push(part);
    size += part.length;
  }
  return Buffer.concat(parts).subarray(0, bytes);
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const bus = await createKafkaBus({ brokers: [broker], compression, clientId: 'ollystack-bench' });
const topic = `bench-${randomUUID().slice(0, 8)}`;
await bus.ensureTopics([{ name: topic, partitions: PARTITIONS, retentionMs: 60 * 60 * 1000 }]);
// Distinct payloads per caller, reused across its calls (the bus does not copy them).
const payloads = Array.from({ length: callers }, () => telemetryLike(recordBytes));
const headers = { tenant: 'bench-tenant', signal: 'traces', items: '100' };
const latencies: number[] = [];
let records = 0;
let seq = 0;
const start = performance.now();
const until = start + seconds * 1000;
await Promise.all(
  Array.from({ length: callers }, async (_, c) => {
    while (performance.now() < until) {
      const t = performance.now();
      await bus.produce(topic, [{ key: Buffer.from(`tenant-${seq++ % 1000}`), value: payloads[c], headers }]);
      latencies.push(performance.now() - t);
      records++;
    }
  }),
);
const elapsedS = (performance.now() - start) / 1000;
await bus.close();
latencies.sort((a, b) => a - b);
const mbps = (records * recordBytes) / MB / elapsedS;
console.log(
  `kafka bus produce (${compression}, ${callers} callers, ${recordBytes / 1024} KB records, ${PARTITIONS} partitions, ${broker}): ` +
    `${mbps.toFixed(1)} MB/s, ${(records / elapsedS).toFixed(0)} records/s, ` +
    `latency p50 ${percentile(latencies, 50).toFixed(1)} ms p99 ${percentile(latencies, 99).toFixed(1)} ms`,
);
const admin = new Admin({ clientId: 'ollystack-bench', bootstrapBrokers: [broker] });
await admin.deleteTopics({ topics: [topic] }).catch((err: Error) => console.log(`could not delete the topic ${topic}: ${err.message}`));
await admin.close();
