/** Prometheus metrics of the storage consumer (all no-ops when no registry is given). */
import { Counter, Histogram, type Registry } from 'prom-client';

export interface ConsumerMetrics {
  rowsWritten(table: string, rows: number): void;
  batch(topic: string, rows: number): void;
  insertDuration(table: string, seconds: number): void;
  insertError(table: string): void;
  recordDropped(reason: 'decode' | 'tenant' | 'topic'): void;
  /** A record the ingest ledger says is stored already (a replay, a takeover). */
  recordSkipped(): void;
}

const NOOP: ConsumerMetrics = {
  rowsWritten() {},
  batch() {},
  insertDuration() {},
  insertError() {},
  recordDropped() {},
  recordSkipped() {},
};

/** Reuses a metric already registered under the name (several consumers may share a registry). */
function counter(registry: Registry, name: string, help: string, labelNames: string[]): Counter<string> {
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Counter<string>;
  return new Counter({ name, help, labelNames, registers: [registry] });
}

function histogram(registry: Registry, name: string, help: string, labelNames: string[], buckets: number[]): Histogram<string> {
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Histogram<string>;
  return new Histogram({ name, help, labelNames, buckets, registers: [registry] });
}

export function createConsumerMetrics(registry?: Registry): ConsumerMetrics {
  if (!registry) return NOOP;
  const rows = counter(registry, 'ollystack_storage_rows_written_total', 'Rows inserted into the store, per table', ['table']);
  const batches = counter(registry, 'ollystack_storage_batches_total', 'Micro-batches written, per topic', ['topic']);
  const batchRows = histogram(registry, 'ollystack_storage_batch_rows', 'Rows per micro-batch', ['topic'], [10, 100, 1000, 5000, 10_000, 25_000, 50_000, 100_000, 250_000]);
  const duration = histogram(registry, 'ollystack_storage_insert_duration_seconds', 'Duration of one table insert', ['table'], [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]);
  const errors = counter(registry, 'ollystack_storage_insert_errors_total', 'Failed inserts (each is retried)', ['table']);
  const dropped = counter(registry, 'ollystack_storage_records_dropped_total', 'Bus records skipped, per reason', ['reason']);
  const skipped = counter(registry, 'ollystack_storage_records_already_stored_total', 'Bus records skipped because the ingest ledger says they are stored (replays, takeovers)', []);
  return {
    recordSkipped: () => skipped.inc(),
    rowsWritten: (table, n) => rows.inc({ table }, n),
    batch: (topic, n) => {
      batches.inc({ topic });
      batchRows.observe({ topic }, n);
    },
    insertDuration: (table, s) => duration.observe({ table }, s),
    insertError: (table) => errors.inc({ table }),
    recordDropped: (reason) => dropped.inc({ reason }),
  };
}
