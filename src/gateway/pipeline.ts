/**
 * The gateway's ingest path, shared by every transport (OTLP/HTTP, OTLP/gRPC): a decoded
 * (decompressed) OTLP protobuf request of one tenant goes in; it is routed per service by the
 * wire scanner, written to the bus, and the outcome comes back once the bus made it durable.
 * Transports only authenticate, read bodies and translate outcomes.
 */
import type { Bus } from '../bus/index.ts';
import { OtlpDecodeError, splitByResource } from '../otlp/index.ts';
import type { Logger } from '../selfobs/index.ts';
import type { Signal, TenantId } from '../telemetry/signals.ts';
import type { Registry } from '../selfobs/index.ts';
import type { Admission } from './admission/index.ts';
import { crc32 } from 'node:zlib';
import { createIdempotencyCache } from './idempotency.ts';
import { IngestError } from './ingest-error.ts';
import { createIngestGate } from './ingest-gate.ts';
import { toProduceRecords } from './records.ts';
import { validateRequest, type ValidationLimits } from './validate/index.ts';

export interface IngestResult {
  /** Items (spans, log records, data points) written to the bus. */
  accepted: number;
  /** Items refused individually (OTLP partial success); 0 when all were taken. */
  rejected: number;
  /** Why items were rejected, for the partial success message. */
  message: string;
}

export interface IngestPipeline {
  /** Throws IngestError for a refusal; resolves once the accepted items are durable on the bus. */
  ingest(tenant: TenantId, signal: Signal, payload: Uint8Array, options?: IngestOptions): Promise<IngestResult>;
}

export interface IngestOptions {
  /** The client's Idempotency-Key: a repeat of a request already taken gets its result, produces nothing. */
  idempotencyKey?: string;
}

export interface PipelineOptions {
  bus: Bus;
  logger: Logger;
  /** Seconds a client is told to wait when the bus cannot take data. */
  retryAfterSeconds?: number;
  /** Per-tenant rate limits (gateway.rateLimits); omitted = unlimited. */
  admission?: Admission;
  /** Where per-tenant item counts go (ollystack_gateway_tenant_items_total); omitted = not counted. */
  registry?: Registry;
  /** Per-item checks (gateway.limits); omitted = items are not checked (transport tests only). */
  limits?: ValidationLimits;
}

export function createIngestPipeline(options: PipelineOptions): IngestPipeline {
  const { bus, logger } = options;
  const retryAfter = options.retryAfterSeconds ?? 5;
  const gate = createIngestGate(options.admission, options.registry);
  const idempotency = createIdempotencyCache();
  const ingestOnce = async (tenant: TenantId, signal: Signal, payload: Uint8Array): Promise<IngestResult> => {
    await gate.beforeDecode(tenant, signal, payload.length);
    // Invalid items drop out here (OTLP partial success); a request with none routes unchanged.
    const checked = options.limits ? validateRequest(signal, payload, options.limits, Date.now()) : undefined;
    let parts;
    try {
      parts = splitByResource(signal, checked ? checked.payload : payload);
    } catch (err) {
      if (err instanceof OtlpDecodeError) throw new IngestError('invalid', `malformed OTLP payload: ${err.message}`);
      throw err;
    }
    let accepted = 0;
    for (const p of parts) accepted += p.items;
    await gate.beforeProduce(tenant, signal, accepted, payload.length);
    if (parts.length > 0) {
      try {
        await bus.produce(signal, toProduceRecords(tenant, signal, parts, Date.now()));
      } catch (err) {
        gate.notProduced(tenant, payload.length, accepted);
        logger.warn({ err: (err as Error).message, signal }, 'bus did not acknowledge; refusing as unavailable');
        throw new IngestError('unavailable', 'the ingestion bus is unavailable; retry later', retryAfter);
      }
    }
    const rejected = checked?.rejected ?? 0;
    gate.produced(tenant, signal, accepted, rejected);
    return { accepted, rejected, message: checked?.message ?? '' };
  };
  return {
    ingest(tenant, signal, payload, ingestOptions) {
      const key = ingestOptions?.idempotencyKey;
      if (key === undefined) return ingestOnce(tenant, signal, payload);
      return idempotency.run(tenant, signal, key, () => ingestOnce(tenant, signal, payload), `${payload.length}:${crc32(payload)}`);
    },
  };
}
