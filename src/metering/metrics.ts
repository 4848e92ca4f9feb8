/** Prometheus metrics of the metering consumer (no-ops without a registry). */
import { Counter, type Registry } from 'prom-client';

export interface MeteringMetrics {
  /** A record skipped (no tenant) or counted without events (no item count header). */
  recordIncomplete(reason: 'no-tenant' | 'no-items'): void;
  rowsWritten(rows: number): void;
  insertError(): void;
  /** A record skipped because the ingest ledger says it is counted already (a rewound group). */
  recordAlreadyCounted(): void;
}

const NOOP: MeteringMetrics = { recordIncomplete() {}, rowsWritten() {}, insertError() {}, recordAlreadyCounted() {} };

/** Reuses a counter already registered under the name (consumers may share a registry). */
function counter(registry: Registry, name: string, help: string, labelNames: string[] = []): Counter<string> {
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Counter<string>;
  return new Counter({ name, help, labelNames, registers: [registry] });
}

export function createMeteringMetrics(registry?: Registry): MeteringMetrics {
  if (!registry) return NOOP;
  const incomplete = counter(registry, 'ollystack_metering_records_incomplete_total', 'Bus records skipped (no-tenant) or counted without events (no-items)', ['reason']);
  const rows = counter(registry, 'ollystack_metering_rows_written_total', 'Usage rows inserted (one per tenant, signal and hour of a batch)');
  const errors = counter(registry, 'ollystack_metering_insert_errors_total', 'Failed usage inserts (each is retried)');
  const already = counter(registry, 'ollystack_metering_records_already_counted_total', 'Bus records skipped because the ingest ledger says they are counted (a rewound group)');
  return {
    recordIncomplete: (reason) => incomplete.inc({ reason }),
    rowsWritten: (n) => rows.inc(n),
    insertError: () => errors.inc(),
    recordAlreadyCounted: () => already.inc(),
  };
}
