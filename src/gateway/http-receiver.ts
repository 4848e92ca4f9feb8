import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Bus } from '../bus/index.ts';
import type { Logger } from '../selfobs/index.ts';
import type { Registry } from '../selfobs/index.ts';
import { createHttpServer, registerOpsRoutes } from '../selfobs/index.ts';
import { OTLP_HTTP_PATHS, SIGNALS, type Signal, type TenantId } from '../telemetry/signals.ts';
import { apiKeyFromHeaders, type KeyResolver } from '../tenancy/index.ts';
import { createInflightBudget, type Admission, type InflightBudget } from './admission/index.ts';
import { registerCors } from './cors.ts';
import { registerDrain } from './drain.ts';
import { registerInflightLimit } from './http-backpressure.ts';
import { createGatewayMetrics, trackInflightBytes } from './metrics.ts';
import { exportResponseJson, exportResponseProto } from './export-response.ts';
import { JSON_TYPE, PROTOBUF_TYPES, bodyEncoding, classify, requestPayload, unsupportedContentType, type BodyEncoding } from './http-payload.ts';
import { IngestError } from './ingest-error.ts';
import { createIngestPipeline, type IngestPipeline } from './pipeline.ts';
import type { ValidationLimits } from './validate/index.ts';
import { GRPC_CODE, encodeStatusProto } from './status-body.ts';

export interface HttpReceiverOptions {
  /** The bus to build an ingest pipeline on, when no pipeline is given. */
  bus?: Bus;
  /** The ingest path shared with the gRPC receiver; else one is made from the options below. */
  pipeline?: IngestPipeline;
  keys: KeyResolver;
  /**
   * Tenant of requests that carry no API key: the agent's local receiver, where applications on
   * the host send without one. Omitted = a key is required (the gateway).
   */
  anonymousTenant?: TenantId;
  logger: Logger;
  registry: Registry;
  /** Largest body accepted, compressed or not, and largest decompressed payload. */
  maxRequestBytes: number;
  /** Seconds a client is told to wait when the bus cannot take data. */
  retryAfterSeconds?: number;
  /** Per-tenant rate limits (createAdmission; shared with the gRPC receiver, closed by the caller); omitted = unlimited. */
  admission?: Admission;
  /** The process's in-flight byte budget, shared with the gRPC receiver; else one of maxInflightBytes. */
  inflight?: InflightBudget;
  /** gateway.maxInflightBytes, when no shared budget is given. Default 256 MiB. */
  maxInflightBytes?: number;
  /** gateway.corsAllowedOrigins: [] = CORS off (default), ['*'] = any origin, else exact origins. */
  corsAllowedOrigins?: readonly string[];
  /** How long close() waits for requests in progress before cutting them. Default 15 000 ms. */
  drainTimeoutMs?: number;
  /** Per-item checks (gateway.limits); omitted = items are not checked. */
  limits?: ValidationLimits;
}

declare module 'fastify' {
  interface FastifyRequest {
    tenant?: string;
  }
}

/** How to encode answers: like the request, protobuf unless it came as JSON. */
function requestEncoding(req: FastifyRequest): BodyEncoding {
  return bodyEncoding(req.headers['content-type']) === 'json' ? 'json' : 'protobuf';
}

function sendError(reply: FastifyReply, encoding: BodyEncoding, status: number, grpcCode: number, message: string): FastifyReply {
  reply.code(status);
  if (encoding === 'json') return reply.type(JSON_TYPE).send(JSON.stringify({ code: grpcCode, message }));
  return reply.type('application/x-protobuf').send(encodeStatusProto(grpcCode, message));
}

function sendIngestError(reply: FastifyReply, encoding: BodyEncoding, e: IngestError): FastifyReply {
  if (e.retryAfterSeconds !== undefined) reply.header('retry-after', String(e.retryAfterSeconds));
  return sendError(reply, encoding, e.httpStatus, e.grpcCode, e.message);
}

const SIGNAL_OF_PATH = new Map<string, Signal>(SIGNALS.map((s) => [OTLP_HTTP_PATHS[s], s]));

/**
 * The OTLP/HTTP receiver: /v1/traces, /v1/metrics, /v1/logs, protobuf or JSON, optionally
 * gzip, deflate or zstd. It reads only what routing needs (each resource's service.name and
 * item count) and forwards the protobuf bytes; 200 goes out only after the bus made the data
 * durable. Per-tenant rate limits apply in the pipeline; the in-flight byte budget, CORS and
 * the drain on close() here.
 */
export function createHttpReceiver(options: HttpReceiverOptions): FastifyInstance {
  const { keys, logger, maxRequestBytes } = options;
  const bus = options.bus;
  if (!options.pipeline && !bus) throw new TypeError('createHttpReceiver: pass pipeline or bus');
  const pipeline = options.pipeline ?? createIngestPipeline({ bus: bus!, logger, retryAfterSeconds: options.retryAfterSeconds, admission: options.admission, registry: options.registry, limits: options.limits });
  const metrics = createGatewayMetrics(options.registry);
  const inflight = options.inflight ?? createInflightBudget(options.maxInflightBytes ?? 256 * 1024 * 1024);
  trackInflightBytes(options.registry, inflight);
  const app = createHttpServer(logger, 'gateway', { bodyLimit: maxRequestBytes });
  registerDrain(app, options.drainTimeoutMs ?? 15_000);
  // Before authentication: preflights carry no API key, and refusals need the CORS headers too.
  registerCors(app, options.corsAllowedOrigins ?? []);

  app.removeAllContentTypeParsers();
  const rawParser = (_req: FastifyRequest, body: Buffer, done: (err: Error | null, body?: Buffer) => void) => done(null, body);
  app.addContentTypeParser([...PROTOBUF_TYPES, JSON_TYPE], { parseAs: 'buffer' }, rawParser);

  // Authenticate before the body is read: an unknown key costs no parsing.
  app.addHook('onRequest', async (req, reply) => {
    if (req.method !== 'POST') return;
    const key = apiKeyFromHeaders(req.headers);
    const tenant = key ? keys.resolve(key) : (options.anonymousTenant ?? null);
    if (!tenant) {
      sendError(reply, requestEncoding(req), 401, GRPC_CODE.UNAUTHENTICATED, key ? 'unknown API key' : 'missing API key: send Authorization: Bearer <key>');
      return reply;
    }
    req.tenant = tenant;
  });

  // Refusals before the handler runs (the in-flight budget) are counted here, not by the handler.
  const refuseEarly = (req: FastifyRequest, reply: FastifyReply, err: IngestError) => {
    const signal = SIGNAL_OF_PATH.get(req.routeOptions.url ?? '');
    if (signal) metrics.requests.inc({ signal, code: String(err.httpStatus) });
    return sendIngestError(reply, requestEncoding(req), err);
  };
  // Past the in-flight budget: 503 before the body is read.
  registerInflightLimit(app, inflight, maxRequestBytes, refuseEarly);

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, req, reply) => {
    const encoding = requestEncoding(req);
    // Refused while the body streamed in (the in-flight budget).
    if (err instanceof IngestError) return refuseEarly(req, reply, err);
    if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || err.statusCode === 415) {
      return sendError(reply, 'json', 415, GRPC_CODE.INVALID_ARGUMENT, unsupportedContentType(req.headers['content-type']));
    }
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || err.statusCode === 413) {
      return sendError(reply, encoding, 413, GRPC_CODE.INVALID_ARGUMENT, `request body exceeds the limit of ${maxRequestBytes} bytes`);
    }
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
      return sendError(reply, encoding, err.statusCode, GRPC_CODE.INVALID_ARGUMENT, err.message);
    }
    req.log.error({ err }, 'gateway request failed');
    return sendError(reply, encoding, 500, GRPC_CODE.INTERNAL, 'internal error');
  });

  for (const signal of SIGNALS) {
    app.post(OTLP_HTTP_PATHS[signal], async (req, reply) => {
      const started = performance.now();
      const encoding = requestEncoding(req);
      const body = req.body as Buffer;
      metrics.bytes.inc({ signal }, body.length);
      let status = 200;
      try {
        const payload = await requestPayload(signal, encoding, body, req.headers['content-encoding'] as string | undefined, maxRequestBytes);
        const key = req.headers['idempotency-key'];
        const result = await pipeline.ingest(req.tenant!, signal, payload, key === undefined ? undefined : { idempotencyKey: String(key) });
        metrics.items.inc({ signal }, result.accepted);
        if (encoding === 'json') return reply.type(JSON_TYPE).send(exportResponseJson(signal, result.rejected, result.message));
        return reply.type('application/x-protobuf').send(exportResponseProto(signal, result.rejected, result.message));
      } catch (err) {
        const e = classify(err);
        status = e.httpStatus;
        return sendIngestError(reply, encoding, e);
      } finally {
        metrics.requests.inc({ signal, code: String(status) });
        metrics.duration.observe({ signal }, (performance.now() - started) / 1000);
      }
    });
  }

  registerOpsRoutes(app, { registry: options.registry, ready: () => true });
  return app;
}
