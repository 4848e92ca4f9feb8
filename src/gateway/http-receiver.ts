import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Bus } from '../bus/index.ts';
import { OtlpDecodeError, encodeRequest, requestFromJson, splitByResource, type RoutedPart } from '../otlp/index.ts';
import type { Logger } from '../selfobs/index.ts';
import type { Registry } from '../selfobs/index.ts';
import { createHttpServer, registerOpsRoutes } from '../selfobs/index.ts';
import { OTLP_HTTP_PATHS, SIGNALS, type Signal } from '../telemetry/signals.ts';
import { apiKeyFromHeaders, type KeyResolver } from '../tenancy/index.ts';
import { BadEncodingError, PayloadTooLargeError, UnsupportedEncodingError, decodeContentEncoding } from './decompress.ts';
import { createGatewayMetrics } from './metrics.ts';
import { toProduceRecords } from './records.ts';
import { GRPC_CODE, encodeStatusProto } from './status-body.ts';

export interface HttpReceiverOptions {
  bus: Bus;
  keys: KeyResolver;
  logger: Logger;
  registry: Registry;
  /** Largest body accepted, compressed or not, and largest decompressed payload. */
  maxRequestBytes: number;
  /** Seconds a client is told to wait when the bus cannot take data. */
  retryAfterSeconds?: number;
}

const PROTOBUF_TYPES = new Set(['application/x-protobuf', 'application/protobuf']);
const JSON_TYPE = 'application/json';

type Encoding = 'protobuf' | 'json';

declare module 'fastify' {
  interface FastifyRequest {
    tenant?: string;
  }
}

class HttpError extends Error {
  readonly status: number;
  readonly grpcCode: number;
  constructor(status: number, grpcCode: number, message: string) {
    super(message);
    this.status = status;
    this.grpcCode = grpcCode;
  }
}

function requestEncoding(req: FastifyRequest): Encoding {
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  return type === JSON_TYPE ? 'json' : 'protobuf';
}

function sendError(reply: FastifyReply, encoding: Encoding, status: number, grpcCode: number, message: string): FastifyReply {
  reply.code(status);
  if (encoding === 'json') return reply.type(JSON_TYPE).send(JSON.stringify({ code: grpcCode, message }));
  return reply.type('application/x-protobuf').send(encodeStatusProto(grpcCode, message));
}

/**
 * The OTLP/HTTP receiver: /v1/traces, /v1/metrics, /v1/logs, protobuf or JSON, optionally
 * gzip. It reads only what routing needs (each resource's service.name and item count) and
 * forwards the protobuf bytes; 200 goes out only after the bus made the data durable.
 */
export function createHttpReceiver(options: HttpReceiverOptions): FastifyInstance {
  const { bus, keys, logger, maxRequestBytes } = options;
  const retryAfter = String(options.retryAfterSeconds ?? 5);
  const metrics = createGatewayMetrics(options.registry);
  const app = createHttpServer(logger, 'gateway', { bodyLimit: maxRequestBytes });

  app.removeAllContentTypeParsers();
  const rawParser = (_req: FastifyRequest, body: Buffer, done: (err: Error | null, body?: Buffer) => void) => done(null, body);
  app.addContentTypeParser([...PROTOBUF_TYPES, JSON_TYPE], { parseAs: 'buffer' }, rawParser);

  // Authenticate before the body is read: an unknown key costs no parsing.
  app.addHook('onRequest', async (req, reply) => {
    if (req.method !== 'POST') return;
    const key = apiKeyFromHeaders(req.headers);
    const tenant = key ? keys.resolve(key) : null;
    if (!tenant) {
      sendError(reply, requestEncoding(req), 401, GRPC_CODE.UNAUTHENTICATED, key ? 'unknown API key' : 'missing API key: send Authorization: Bearer <key>');
      return reply;
    }
    req.tenant = tenant;
  });

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, req, reply) => {
    const encoding = requestEncoding(req);
    if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || err.statusCode === 415) {
      return sendError(reply, 'json', 415, GRPC_CODE.INVALID_ARGUMENT, `unsupported Content-Type '${req.headers['content-type'] ?? ''}': use application/x-protobuf or application/json`);
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
        const parts = await routeBody(signal, encoding, body, req.headers['content-encoding'] as string | undefined, maxRequestBytes);
        let items = 0;
        for (const p of parts) items += p.items;
        if (parts.length > 0) {
          try {
            await bus.produce(signal, toProduceRecords(req.tenant!, signal, parts, Date.now()));
          } catch (err) {
            req.log.warn({ err: (err as Error).message, signal }, 'bus did not acknowledge; answering 503');
            throw new HttpError(503, GRPC_CODE.UNAVAILABLE, 'the ingestion bus is unavailable; retry later');
          }
        }
        metrics.items.inc({ signal }, items);
        if (encoding === 'json') return reply.type(JSON_TYPE).send('{}');
        return reply.type('application/x-protobuf').send(Buffer.alloc(0));
      } catch (err) {
        const e = classify(err);
        status = e.status;
        if (status === 503) reply.header('retry-after', retryAfter);
        return sendError(reply, encoding, e.status, e.grpcCode, e.message);
      } finally {
        metrics.requests.inc({ signal, code: String(status) });
        metrics.duration.observe({ signal }, (performance.now() - started) / 1000);
      }
    });
  }

  registerOpsRoutes(app, { registry: options.registry, ready: () => true });
  return app;
}

async function routeBody(signal: Signal, encoding: Encoding, body: Buffer, contentEncoding: string | undefined, limit: number): Promise<RoutedPart[]> {
  const payload = await decodeContentEncoding(body, contentEncoding, limit);
  if (encoding === 'protobuf') return splitByResource(signal, payload);
  let json: unknown;
  try {
    json = JSON.parse(payload.toString('utf8'));
  } catch (err) {
    throw new HttpError(400, GRPC_CODE.INVALID_ARGUMENT, `body is not valid JSON: ${(err as Error).message}`);
  }
  // JSON is the slow path by nature; it becomes protobuf once, here, so the bus carries one format.
  return splitByResource(signal, encodeRequest(signal, requestFromJson(signal, json)));
}

function classify(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  if (err instanceof OtlpDecodeError) return new HttpError(400, GRPC_CODE.INVALID_ARGUMENT, `malformed OTLP payload: ${err.message}`);
  if (err instanceof PayloadTooLargeError) return new HttpError(413, GRPC_CODE.INVALID_ARGUMENT, err.message);
  if (err instanceof UnsupportedEncodingError) return new HttpError(415, GRPC_CODE.INVALID_ARGUMENT, err.message);
  if (err instanceof BadEncodingError) return new HttpError(400, GRPC_CODE.INVALID_ARGUMENT, err.message);
  throw err;
}
