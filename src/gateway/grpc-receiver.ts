/**
 * The OTLP/gRPC receiver: TraceService, MetricsService and LogsService Export on the lean
 * node:http2 server (grpc-h2-server.ts, shared with the agent), feeding the same ingest
 * pipeline as OTLP/HTTP. Not grpc-js: in the benchmark a grpc-js gateway took about two
 * thirds of the spans per second the HTTP gateway took, and a grpc-js server answering
 * nothing at all was not much faster. This file only authenticates, wires the pipeline, the
 * in-flight budget and the metrics to that server, and keeps the grpc-js-era interface.
 *
 * Limits: a message whose prefix announces more than maxRequestBytes is refused before it is
 * buffered, and inflating stops as soon as the output passes the limit (so a gzip bomb costs
 * at most the limit). Both answers are RESOURCE_EXHAUSTED without RetryInfo, which OTLP
 * clients treat as permanent: right, as a retry would be refused the same way.
 */
import type { IncomingHttpHeaders } from 'node:http2';
import type { Bus } from '../bus/index.ts';
import type { Logger, Registry } from '../selfobs/index.ts';
import type { TenantId } from '../telemetry/signals.ts';
import { apiKeyFromHeaders, type KeyResolver } from '../tenancy/index.ts';
import type { InflightBudget } from './admission/index.ts';
import { createGrpcReceiverMetrics, recordGrpcCall } from './grpc-metrics.ts';
import { startGrpcH2Server, type GrpcH2Server } from './grpc-h2-server.ts';
import { GRPC_STATUS } from './grpc-h2-wire.ts';
import { IngestError } from './ingest-error.ts';
import { createIngestPipeline, type IngestPipeline } from './pipeline.ts';

export interface GrpcReceiverOptions {
  /** The ingest path, shared with the other transports. Give it, or a bus to build one on. */
  pipeline?: IngestPipeline;
  /** The process's in-flight byte budget, shared with the HTTP receiver; omitted = unbounded (tests). */
  inflight?: InflightBudget;
  bus?: Bus;
  /** With `bus` only: seconds a client is told to wait when the bus cannot take data. */
  retryAfterSeconds?: number;
  keys: KeyResolver;
  /** Tenant of calls that carry no API key (the agent's local receiver); omitted = a key is required. */
  anonymousTenant?: TenantId;
  logger: Logger;
  registry: Registry;
  /** Largest request message accepted, compressed as sent and again once decompressed. */
  maxRequestBytes: number;
  /** How long close() lets in-flight exports finish before cutting the connections. */
  shutdownTimeoutMs?: number;
}

export interface GrpcReceiver {
  /** Binds and serves; resolves with the bound port (useful with port 0). */
  listen(address: { host: string; port: number }): Promise<number>;
  /** Stops taking calls, lets in-flight ones answer, then closes (forced after shutdownTimeoutMs). */
  close(): Promise<void>;
}

export function createGrpcReceiver(options: GrpcReceiverOptions): GrpcReceiver {
  const { keys, logger, maxRequestBytes, anonymousTenant } = options;
  if (!Number.isSafeInteger(maxRequestBytes) || maxRequestBytes <= 0) {
    throw new Error(`maxRequestBytes: expected a positive integer, got ${maxRequestBytes}`);
  }
  const pipeline = options.pipeline ?? (options.bus && createIngestPipeline({ bus: options.bus, logger, retryAfterSeconds: options.retryAfterSeconds }));
  if (!pipeline) throw new Error('createGrpcReceiver: pass pipeline or bus');
  const metrics = createGrpcReceiverMetrics(options.registry);
  let server: GrpcH2Server | undefined;

  return {
    async listen({ host, port }) {
      server = await startGrpcH2Server({
        host,
        port,
        name: 'OTLP/gRPC',
        logger,
        maxRequestBytes,
        drainTimeoutMs: options.shutdownTimeoutMs ?? 10_000,
        // The gRPC status-code table's answer, and what grpc-js answered before.
        cardinalityCode: GRPC_STATUS.UNIMPLEMENTED,
        authenticate: (headers) => authenticate(headers, keys, anonymousTenant),
        inflight: options.inflight,
        ingest: (tenant, signal, payload, headers) => pipeline.ingest(tenant!, signal, payload, idempotencyOf(headers)),
        onAnswer: (report) => recordGrpcCall(metrics, report),
      });
      return server.port;
    },
    close: () => server?.close() ?? Promise.resolve(),
  };
}

/** The call's idempotency-key metadata (a repeated header joins into an invalid key, refused as such). */
function idempotencyOf(headers: IncomingHttpHeaders): { idempotencyKey: string } | undefined {
  const key = headers['idempotency-key'];
  if (key === undefined) return undefined;
  return { idempotencyKey: Array.isArray(key) ? key.join(', ') : key };
}

/** The tenant of the call's API key, from its headers alone, so an unknown key costs no decompression. */
function authenticate(headers: IncomingHttpHeaders, keys: KeyResolver, anonymousTenant?: TenantId): TenantId | IngestError {
  const auth = headers.authorization;
  const key = apiKeyFromHeaders({ authorization: typeof auth === 'string' ? auth : undefined });
  const tenant = key ? keys.resolve(key) : (anonymousTenant ?? null);
  if (tenant) return tenant;
  return new IngestError('unauthenticated', key ? 'unknown API key' : 'missing API key: send the metadata authorization: Bearer <key>');
}
