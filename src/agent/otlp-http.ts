/**
 * The agent's OTLP/HTTP receiver on plain node:http: POST /v1/traces|metrics|logs from the
 * applications on the host. Not the gateway's Fastify receiver, whose dependencies cost the
 * agent 10-16 MB of its 100 MB budget; it shares the gateway's codec and answers the same way
 * (status codes, google.rpc.Status bodies, Retry-After), without API keys, CORS or rate limits.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  bodyEncoding,
  classify,
  encodeStatusProto,
  exportResponseJson,
  exportResponseProto,
  GRPC_CODE,
  IngestError,
  JSON_TYPE,
  requestPayload,
  unsupportedContentType,
  type BodyEncoding,
  type IngestResult,
} from '../gateway/codec.ts';
import type { Logger } from '../selfobs/log.ts';
import type { LocalTransport, LocalTransportOptions } from './local-transport.ts';
import { OTLP_HTTP_PATHS, SIGNALS, type Signal } from '../telemetry/signals.ts';

export type OtlpHttpOptions = LocalTransportOptions;
export type OtlpHttpReceiver = LocalTransport;

const PROTOBUF_TYPE = 'application/x-protobuf';
const SIGNAL_OF_PATH = new Map<string, Signal>(SIGNALS.map((s) => [OTLP_HTTP_PATHS[s], s]));

/** Resolves once listening; a taken port rejects with the listen error (code EADDRINUSE). */
export function startOtlpHttpReceiver(options: OtlpHttpOptions): Promise<OtlpHttpReceiver> {
  const { host, logger } = options;
  let closing = false;
  const inProgress = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    inProgress.add(res);
    res.once('close', () => inProgress.delete(res));
    if (closing) lastOnConnection(server, res);
    handle(req, res, options).catch((err: unknown) => {
      logger.error({ err }, 'local OTLP/HTTP request failed');
      if (!res.headersSent) sendStatus(res, 'protobuf', 500, GRPC_CODE.INTERNAL, 'internal error');
      else res.destroy();
    });
  });
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;
  // Longer than the usual client idle timeouts, so the client, not us, closes idle connections.
  server.keepAliveTimeout = 65_000;

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => {
      server.off('error', reject);
      server.on('error', (err) => logger.error({ err }, 'local OTLP/HTTP server error'));
      const port = (server.address() as AddressInfo).port;
      resolve({
        url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
        port,
        close: () => {
          if (closing) return Promise.resolve();
          closing = true;
          for (const res of inProgress) lastOnConnection(server, res);
          return drain(server, options.drainTimeoutMs ?? 5_000, logger);
        },
      });
    });
  });
}

/**
 * During close(): the connection ends once this answer is out, so a kept-alive client does
 * not hold the server open until the drain timeout cuts it.
 */
function lastOnConnection(server: Server, res: ServerResponse): void {
  if (!res.headersSent) res.setHeader('connection', 'close');
  else res.once('finish', () => setImmediate(() => server.closeIdleConnections()));
}

async function handle(req: IncomingMessage, res: ServerResponse, options: OtlpHttpOptions): Promise<void> {
  const signal = SIGNAL_OF_PATH.get((req.url ?? '').split('?')[0]);
  if (!signal) {
    res.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: POST OTLP to ${SIGNALS.map((s) => OTLP_HTTP_PATHS[s]).join(', ')}\n`);
    return;
  }
  if (req.method !== 'POST') {
    res.writeHead(405, { allow: 'POST', 'content-type': 'text/plain' }).end('method not allowed: use POST\n');
    return;
  }
  const encoding = bodyEncoding(req.headers['content-type']);
  if (!encoding) {
    // The gateway answers 415 in JSON whatever was sent: the client's type is not one we can write.
    sendStatus(res, 'json', 415, GRPC_CODE.INVALID_ARGUMENT, unsupportedContentType(req.headers['content-type']), true);
    return;
  }
  const { maxRequestBytes } = options;
  const declared = req.headers['content-length'] === undefined ? undefined : Number(req.headers['content-length']);
  if (declared !== undefined && declared > maxRequestBytes) {
    sendTooLarge(res, encoding, maxRequestBytes);
    return;
  }
  const body = await readBody(req, declared, maxRequestBytes);
  if (body === 'too-large') {
    sendTooLarge(res, encoding, maxRequestBytes);
    return;
  }
  if (!body) return; // the client went away mid-body: nobody to answer

  let result: IngestResult;
  try {
    const payload = await requestPayload(signal, encoding, body, req.headers['content-encoding'], maxRequestBytes);
    result = await options.ingest(signal, payload);
  } catch (err) {
    const refusal = refusalOf(err);
    if (refusal) {
      sendIngestError(res, encoding, refusal);
    } else {
      options.logger.error({ err, signal }, 'local OTLP/HTTP request failed');
      sendStatus(res, encoding, 500, GRPC_CODE.INTERNAL, 'internal error');
    }
    return;
  }
  if (encoding === 'json') send(res, 200, JSON_TYPE, exportResponseJson(signal, result.rejected, result.message));
  else send(res, 200, PROTOBUF_TYPE, exportResponseProto(signal, result.rejected, result.message));
}

/**
 * The body in one Buffer, allocated once when Content-Length is known; 'too-large' as soon as
 * a chunked body passes the limit (the rest is not read); undefined when the client aborted.
 */
function readBody(req: IncomingMessage, declared: number | undefined, limit: number): Promise<Buffer | 'too-large' | undefined> {
  return new Promise((resolve) => {
    const sized = declared === undefined ? undefined : Buffer.allocUnsafe(declared);
    const chunks: Buffer[] = [];
    let received = 0;
    const finish = (value: Buffer | 'too-large' | undefined) => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('close', onClose);
      resolve(value);
    };
    const onData = (chunk: Buffer) => {
      if (received + chunk.length > limit) {
        req.pause();
        finish('too-large');
        return;
      }
      if (sized) chunk.copy(sized, received);
      else chunks.push(chunk);
      received += chunk.length;
    };
    // node:http ends a Content-Length body only once all of it arrived, so `sized` is full here.
    const onEnd = () => finish(sized ?? Buffer.concat(chunks, received));
    const onClose = () => finish(undefined);
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('close', onClose);
  });
}

/** The client is told why, or undefined for a fault of ours (classify throws those again). */
function refusalOf(err: unknown): IngestError | undefined {
  try {
    return classify(err);
  } catch {
    return undefined;
  }
}

function sendTooLarge(res: ServerResponse, encoding: BodyEncoding, limit: number): void {
  // Closed after the answer: the unread rest of the body leaves the connection unusable.
  sendStatus(res, encoding, 413, GRPC_CODE.INVALID_ARGUMENT, `request body exceeds the limit of ${limit} bytes`, true);
}

function sendIngestError(res: ServerResponse, encoding: BodyEncoding, e: IngestError): void {
  if (e.retryAfterSeconds !== undefined) res.setHeader('retry-after', String(e.retryAfterSeconds));
  sendStatus(res, encoding, e.httpStatus, e.grpcCode, e.message);
}

/** A google.rpc.Status body, encoded like the request, as the OTLP/HTTP specification asks. */
function sendStatus(res: ServerResponse, encoding: BodyEncoding, status: number, grpcCode: number, message: string, closeConnection = false): void {
  if (closeConnection) res.setHeader('connection', 'close');
  if (encoding === 'json') send(res, status, JSON_TYPE, JSON.stringify({ code: grpcCode, message }));
  else send(res, status, PROTOBUF_TYPE, encodeStatusProto(grpcCode, message));
}

function send(res: ServerResponse, status: number, type: string, body: string | Uint8Array): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) }).end(body);
}

/**
 * Stops accepting and closes idle connections at once (server.close() does, since Node 19),
 * lets requests in progress answer for up to `timeoutMs`, then cuts what is left.
 */
function drain(server: Server, timeoutMs: number, logger: Logger): Promise<void> {
  return new Promise((resolve) => {
    const force = setTimeout(() => {
      logger.warn({ timeoutMs }, 'local OTLP/HTTP requests still open at shutdown; closing them');
      server.closeAllConnections();
    }, timeoutMs);
    server.close(() => {
      clearTimeout(force);
      resolve();
    });
  });
}
