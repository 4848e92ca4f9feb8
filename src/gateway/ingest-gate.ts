import type { Registry } from 'prom-client';
import type { Signal } from '../telemetry/signals.ts';
import type { Admission } from './admission/index.ts';
import { IngestError } from './ingest-error.ts';
import { tenantIngestMetrics, type TenantIngestMetrics } from './metrics.ts';

/**
 * The pipeline's admission steps and per-tenant counts, kept out of the pipeline so it reads
 * as the path a request takes: bytes before decoding, items before the bus, counts after.
 */
export interface IngestGate {
  /** The decompressed payload against the tenant's bytes/s, before any decoding is spent on it. */
  beforeDecode(tenant: string, signal: Signal, bytes: number): Promise<void>;
  /** The routed items against the tenant's events/s, before the bus; a refusal gives the bytes back. */
  beforeProduce(tenant: string, signal: Signal, items: number, bytes: number): Promise<void>;
  /** The bus refused: what was taken is given back, the client will send it again. */
  notProduced(tenant: string, bytes: number, items: number): void;
  /** The bus acknowledged. */
  produced(tenant: string, signal: Signal, accepted: number, rejected: number): void;
}

export function createIngestGate(admission: Admission | undefined, registry: Registry | undefined): IngestGate {
  const metrics = registry ? tenantIngestMetrics(registry) : null;
  return {
    async beforeDecode(tenant, signal, bytes) {
      if (admission) await counted(metrics, tenant, signal, 'bytes', 0, () => admission.admitBytes(tenant, bytes));
    },
    async beforeProduce(tenant, signal, items, bytes) {
      if (!admission) return;
      try {
        await counted(metrics, tenant, signal, 'events', items, () => admission.admitEvents(tenant, items));
      } catch (err) {
        admission.refund(tenant, bytes, 0);
        throw err;
      }
    },
    notProduced(tenant, bytes, items) {
      admission?.refund(tenant, bytes, items);
    },
    produced(tenant, signal, accepted, rejected) {
      if (!metrics) return;
      if (accepted > 0) metrics.items.inc({ tenant, signal, outcome: 'accepted' }, accepted);
      if (rejected > 0) metrics.items.inc({ tenant, signal, outcome: 'rejected' }, rejected);
    },
  };
}

async function counted(metrics: TenantIngestMetrics | null, tenant: string, signal: Signal, limit: 'events' | 'bytes', items: number, admit: () => Promise<void>): Promise<void> {
  try {
    await admit();
  } catch (err) {
    if (metrics && err instanceof IngestError && err.kind === 'throttled') {
      metrics.throttledRequests.inc({ tenant, signal, limit });
      if (items > 0) metrics.items.inc({ tenant, signal, outcome: 'throttled' }, items);
    }
    throw err;
  }
}
