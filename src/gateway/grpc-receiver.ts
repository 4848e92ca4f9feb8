/**
 * The OTLP/gRPC receiver: TraceService, MetricsService and LogsService Export on one grpc-js
 * server, feeding the same ingest pipeline as OTLP/HTTP. It only authenticates, hands the
 * raw request bytes to the pipeline and translates the outcome into a gRPC answer.
 *
 * Limits come from grpc-js, configured with maxRequestBytes as grpc.max_receive_message_length:
 * it refuses a message whose frame announces more bytes before buffering it, and stops
 * inflating a gzip/deflate message as soon as the output passes the limit (so a gzip bomb
 * costs at most the limit). Both answers are RESOURCE_EXHAUSTED without RetryInfo, which
 * OTLP clients treat as permanent: right, as a retry would be refused the same way.
 */
import {
  Server,
  ServerCredentials,
  ServerInterceptingCall,
  status as GrpcStatus,
  type Metadata,
  type ServerInterceptor,
  type ServerUnaryCall,
  type StatusObject,
  type sendUnaryData,
} from '@grpc/grpc-js';
import type { Bus } from '../bus/index.ts';
import type { Logger, Registry } from '../selfobs/index.ts';
import { SIGNALS, type Signal, type TenantId } from '../telemetry/signals.ts';
import { apiKeyFromHeaders, type KeyResolver } from '../tenancy/index.ts';
import { exportResponseProto } from './export-response.ts';
import { createGrpcReceiverMetrics, type GrpcReceiverMetrics } from './grpc-metrics.ts';
import { otlpServiceDefinition, signalOfPath } from './grpc-services.ts';
import { retryTrailers } from './grpc-status.ts';
import { IngestError } from './ingest-error.ts';
import { inflightRefusal, type InflightBudget } from './admission/index.ts';
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

type ExportCall = ServerUnaryCall<Buffer, Uint8Array>;

const CODE_NAME = GrpcStatus as unknown as Record<number, string>;

export function createGrpcReceiver(options: GrpcReceiverOptions): GrpcReceiver {
  const { keys, logger, maxRequestBytes } = options;
  if (!Number.isSafeInteger(maxRequestBytes) || maxRequestBytes <= 0) {
    throw new Error(`maxRequestBytes: expected a positive integer, got ${maxRequestBytes}`);
  }
  const pipeline = options.pipeline ?? (options.bus && createIngestPipeline({ bus: options.bus, logger, retryAfterSeconds: options.retryAfterSeconds }));
  if (!pipeline) throw new Error('createGrpcReceiver: pass pipeline or bus');
  const shutdownTimeoutMs = options.shutdownTimeoutMs ?? 10_000;
  const metrics = createGrpcReceiverMetrics(options.registry);
  // The tenant the interceptor resolved, keyed by the call's metadata object, which grpc-js
  // hands on unchanged to the handler: no header a client could set carries it.
  const tenants = new WeakMap<Metadata, TenantId>();

  const server = new Server({
    'grpc.max_receive_message_length': maxRequestBytes,
    interceptors: [authenticate(keys, tenants, metrics, options.anonymousTenant)],
  });
  for (const signal of SIGNALS) {
    server.addService(otlpServiceDefinition(signal), { Export: exportHandler(signal, pipeline, tenants, metrics, logger, options.inflight) });
  }

  return {
    listen({ host, port }) {
      const target = `${host.includes(':') ? `[${host}]` : host}:${port}`;
      return new Promise((resolve, reject) => {
        server.bindAsync(target, ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound)));
      });
    },
    close() {
      return new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          logger.warn({ timeoutMs: shutdownTimeoutMs }, 'OTLP/gRPC calls still open at shutdown; closing them');
          server.forceShutdown();
          resolve();
        }, shutdownTimeoutMs);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      });
    },
  };
}

/**
 * Authenticates from the headers, before the message is read: grpc-js reads (and inflates)
 * the body only once the handler asks for it, so an unknown key costs no decompression.
 */
function authenticate(keys: KeyResolver, tenants: WeakMap<Metadata, TenantId>, metrics: GrpcReceiverMetrics, anonymousTenant?: TenantId): ServerInterceptor {
  return (method, call) =>
    new ServerInterceptingCall(call, {
      start: (next) =>
        next({
          onReceiveMetadata: (metadata, pass) => {
            const auth = metadata.get('authorization')[0];
            const key = apiKeyFromHeaders({ authorization: typeof auth === 'string' ? auth : undefined });
            const tenant = key ? keys.resolve(key) : (anonymousTenant ?? null);
            if (!tenant) {
              const signal = signalOfPath(method.path);
              if (signal) metrics.requests.inc({ signal, code: CODE_NAME[GrpcStatus.UNAUTHENTICATED] });
              call.sendStatus({
                code: GrpcStatus.UNAUTHENTICATED,
                details: key ? 'unknown API key' : 'missing API key: send the metadata authorization: Bearer <key>',
                metadata: null,
              });
              return;
            }
            tenants.set(metadata, tenant);
            pass(metadata);
          },
        }),
    });
}

function exportHandler(signal: Signal, pipeline: IngestPipeline, tenants: WeakMap<Metadata, TenantId>, metrics: GrpcReceiverMetrics, logger: Logger, inflight?: InflightBudget) {
  return (call: ExportCall, callback: sendUnaryData<Uint8Array>): void => {
    const started = performance.now();
    const done = (code: number) => {
      metrics.requests.inc({ signal, code: CODE_NAME[code] ?? String(code) });
      metrics.duration.observe({ signal }, (performance.now() - started) / 1000);
    };
    const tenant = tenants.get(call.metadata);
    if (!tenant) {
      // Unreachable while the interceptor is installed; refuse rather than guess a tenant.
      done(GrpcStatus.UNAUTHENTICATED);
      callback({ code: GrpcStatus.UNAUTHENTICATED, details: 'missing API key' });
      return;
    }
    metrics.bytes.inc({ signal }, call.request.length);
    const reserved = call.request.length;
    // Over the process's in-flight budget: UNAVAILABLE with RetryInfo at once, never a queue.
    if (inflight && !inflight.tryReserve(reserved)) {
      const status = statusOf(inflightRefusal(inflight), signal, logger);
      done(status.code);
      callback(status);
      return;
    }
    pipeline.ingest(tenant, signal, call.request).finally(() => inflight?.release(reserved)).then(
      (result) => {
        metrics.items.inc({ signal }, result.accepted);
        done(GrpcStatus.OK);
        callback(null, exportResponseProto(signal, result.rejected, result.message));
      },
      (err: unknown) => {
        const status = statusOf(err, signal, logger);
        done(status.code);
        callback(status);
      },
    );
  };
}

/** An IngestError as its gRPC status (with RetryInfo when the client may retry); anything else as INTERNAL. */
function statusOf(err: unknown, signal: Signal, logger: Logger): Pick<StatusObject, 'code' | 'details'> & { metadata?: Metadata } {
  if (err instanceof IngestError) {
    const code = err.grpcCode;
    const retryable = code === GrpcStatus.RESOURCE_EXHAUSTED || code === GrpcStatus.UNAVAILABLE;
    if (retryable && err.retryAfterSeconds !== undefined) {
      return { code, details: err.message, metadata: retryTrailers(code, err.message, err.retryAfterSeconds) };
    }
    return { code, details: err.message };
  }
  logger.error({ err, signal }, 'OTLP/gRPC export failed');
  return { code: GrpcStatus.INTERNAL, details: 'internal error' };
}
