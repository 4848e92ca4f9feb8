/**
 * Produce throughput of the embedded bus: 64 concurrent producers each sending 100 KB
 * batches (10 records of 10 KB, keyed) as fast as acknowledgements come back, beside a
 * baseline of raw fs.writeSync + fdatasyncSync of the same bytes in the same run.
 *
 *   node src/bus/embedded/bus.bench.ts [seconds=5] [partitions=8]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createEmbeddedBus } from '../index.ts';
import type { ProduceRecord } from '../index.ts';

const seconds = Number(process.argv[2] ?? 5);
const partitions = Number(process.argv[3] ?? 8);
const PRODUCERS = 64;
const RECORDS_PER_BATCH = 10;
const RECORD_BYTES = 10 * 1024;
const BATCH_BYTES = RECORDS_PER_BATCH * RECORD_BYTES;
const MB = 1024 * 1024;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function benchBus(dir: string): Promise<{ bytes: number; records: number; elapsedMs: number; latencies: number[] }> {
  const bus = await createEmbeddedBus({ dir });
  await bus.ensureTopics([{ name: 'bench', partitions, retentionMs: 24 * 60 * 60 * 1000 }]);
  // Distinct payload buffers per producer, reused across its batches (the bus does not copy them).
  const payloads = Array.from({ length: PRODUCERS }, (_, p) =>
    Array.from({ length: RECORDS_PER_BATCH }, (_, i) => Buffer.alloc(RECORD_BYTES, (p * RECORDS_PER_BATCH + i) & 0xff)),
  );
  const headers = { tenant: 'bench-tenant', signal: 'traces', items: '100' };
  const latencies: number[] = [];
  let records = 0;
  const start = performance.now();
  const until = start + seconds * 1000;
  let seq = 0;
  const producer = async (p: number): Promise<void> => {
    while (performance.now() < until) {
      const batch: ProduceRecord[] = payloads[p].map((value) => ({ key: Buffer.from(`tenant-${seq++ % 1000}`), value, headers }));
      const t = performance.now();
      await bus.produce('bench', batch);
      latencies.push(performance.now() - t);
      records += batch.length;
    }
  };
  await Promise.all(Array.from({ length: PRODUCERS }, (_, p) => producer(p)));
  const elapsedMs = performance.now() - start;
  await bus.close();
  return { bytes: records * RECORD_BYTES, records, elapsedMs, latencies: latencies.sort((a, b) => a - b) };
}

/** The same payload bytes written straight to one file, fdatasync'd once per `groupBatches` batches. */
function benchRaw(dir: string, totalBytes: number, groupBatches: number): { elapsedMs: number; syncs: number } {
  const file = path.join(dir, `raw-${groupBatches}.bin`);
  const fd = fs.openSync(file, 'w');
  const buf = Buffer.alloc(BATCH_BYTES, 1);
  const batches = Math.max(1, Math.floor(totalBytes / BATCH_BYTES));
  let syncs = 0;
  const start = performance.now();
  for (let b = 1; b <= batches; b++) {
    fs.writeSync(fd, buf);
    if (b % groupBatches === 0 || b === batches) {
      fs.fdatasyncSync(fd);
      syncs++;
    }
  }
  const elapsedMs = performance.now() - start;
  fs.closeSync(fd);
  fs.rmSync(file);
  return { elapsedMs, syncs };
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bus-bench-'));
try {
  const r = await benchBus(path.join(dir, 'bus'));
  const mbps = r.bytes / MB / (r.elapsedMs / 1000);
  console.log(`embedded bus: ${PRODUCERS} producers x ${BATCH_BYTES / 1024} KB batches (${RECORDS_PER_BATCH} x ${RECORD_BYTES / 1024} KB records), ${partitions} partitions, ${seconds}s`);
  console.log(`  ${mbps.toFixed(1)} MB/s payload, ${Math.round(r.records / (r.elapsedMs / 1000))} records/s, ${Math.round(r.latencies.length / (r.elapsedMs / 1000))} produce calls/s`);
  console.log(`  produce latency p50 ${percentile(r.latencies, 50).toFixed(2)} ms, p99 ${percentile(r.latencies, 99).toFixed(2)} ms, max ${r.latencies.at(-1)!.toFixed(2)} ms`);
  fs.rmSync(path.join(dir, 'bus'), { recursive: true, force: true });
  for (const group of [PRODUCERS, 1]) {
    const raw = benchRaw(dir, r.bytes, group);
    const rawMbps = r.bytes / MB / (raw.elapsedMs / 1000);
    console.log(
      `baseline writeSync + fdatasyncSync every ${group} x 100 KB: ${rawMbps.toFixed(1)} MB/s (${raw.syncs} fdatasyncs, ${(raw.elapsedMs / raw.syncs).toFixed(2)} ms each incl. writes)`,
    );
  }
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
