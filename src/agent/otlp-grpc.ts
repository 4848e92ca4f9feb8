/**
 * The agent's local OTLP/gRPC receiver on Node's built-in node:http2 (h2c: cleartext HTTP/2
 * with prior knowledge, what gRPC clients speak to an http:// endpoint). Not the gateway's
 * grpc-js receiver: grpc-js costs the agent about 5 MB of its 100 MB RSS, and OTLP/gRPC needs
 * nothing but unary Export calls, a small protocol over HTTP/2. Only unary calls are
 * implemented: one length-prefixed request message, one response message, then trailers.
 * It answers like the gateway (same decompression limits, same IngestError statuses and
 * RetryInfo trailer), without API keys. It must not import grpc-js, Fastify or
 * src/gateway/index.ts, which esbuild would bundle into the agent.
 */
import http2, { type IncomingHttpHeaders, type OutgoingHttpHeaders, type ServerHttp2Session, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';
// The codec entry, not index.ts: that one bundles grpc-js and Fastify into the agent.
import {
  decodeContentEncoding,
  encodeRetryStatus,
  exportResponseProto,
  IngestError,
  PayloadTooLargeError,
  STATUS_DETAILS_KEY,
  SUPPORTED_ENCODINGS,
} from '../gateway/codec.ts';
import type { Logger } from '../selfobs/log.ts';
import type { LocalTransport, LocalTransportOptions } from './local-transport.ts';
import type { Signal } from '../telemetry/signals.ts';

export interface OtlpGrpcOptions extends LocalTransportOptions {
  /** A call with no traffic for this long is answered DEADLINE_EXCEEDED. Default 30 000 ms. */
  streamIdleTimeoutMs?: number;
}

export type OtlpGrpcReceiver = LocalTransport;

/** The gRPC status codes this server answers with (grpc/doc/statuscodes.md). */
export const GRPC_STATUS = {
  OK: 0,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  RESOURCE_EXHAUSTED: 8,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
} as const;

/**
 * The same paths as the gateway's grpc-services.ts, written again because that file imports
 * grpc-js types; the test holds the two equal.
 */
export const OTLP_GRPC_EXPORT_PATHS: Record<Signal, string> = {
  traces: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
  metrics: '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export',
  logs: '/opentelemetry.proto.collector.logs.v1.LogsService/Export',
};
const SIGNAL_OF_PATH = new Map<string, Signal>(Object.entries(OTLP_GRPC_EXPORT_PATHS).map(([signal, path]) => [path, signal as Signal]));

const GRPC_TYPE = 'application/grpc';
const ACCEPT_ENCODING = ['identity', ...SUPPORTED_ENCODINGS].join(',');
const FRAME_HEADER = 5;

/**
 * Per connection: 100 calls at once (what grpc-go and grpc-java allow by default), 16 KiB of
 * headers (gRPC clients send well under 8 KiB of metadata), and nghttp2's own buffers capped
 * at 8 MB; request messages are buffered by this file, not by nghttp2, and are bounded by
 * maxRequestBytes.
 */
const SERVER_OPTIONS: http2.ServerOptions = {
  maxSessionMemory: 8,
  peerMaxConcurrentStreams: 100,
  settings: { maxConcurrentStreams: 100, maxHeaderListSize: 16 * 1024 },
};

/** Resolves once listening; a taken port rejects with the listen error (code EADDRINUSE). */
export function startOtlpGrpcReceiver(options: OtlpGrpcOptions): Promise<OtlpGrpcReceiver> {
  const { host, logger, maxRequestBytes } = options;
  if (!Number.isSafeInteger(maxRequestBytes) || maxRequestBytes <= 0) {
    return Promise.reject(new Error(`maxRequestBytes: expected a positive integer, got ${maxRequestBytes}`));
  }
  const sessions = new Set<ServerHttp2Session>();
  let closing: Promise<void> | undefined;
  const server = http2.createServer(SERVER_OPTIONS);
  server.on('session', (session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
    if (closing) session.close();
  });
  // An Http2Session 'error' without a listener would crash the agent; a broken client is not fatal.
  server.on('sessionError', (err) => logger.debug({ err }, 'local OTLP/gRPC connection failed'));
  server.on('stream', (stream, headers) => handleCall(stream, headers, options));

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => {
      server.off('error', reject);
      server.on('error', (err) => logger.error({ err }, 'local OTLP/gRPC server error'));
      const port = (server.address() as AddressInfo).port;
      resolve({
        url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
        port,
        close: () => (closing ??= drain(server, sessions, options.drainTimeoutMs ?? 5_000, logger)),
      });
    });
  });
}

/**
 * Stops accepting connections and sends every connection a GOAWAY (session.close()), so
 * clients open no new calls on it while those in progress answer; after `timeoutMs` the
 * sessions left are destroyed, cutting their calls.
 */
function drain(server: http2.Http2Server, sessions: Set<ServerHttp2Session>, timeoutMs: number, logger: Logger): Promise<void> {
  return new Promise((resolve) => {
    const force = setTimeout(() => {
      logger.warn({ timeoutMs }, 'local OTLP/gRPC calls still open at shutdown; closing them');
      for (const session of sessions) session.destroy();
    }, timeoutMs);
    server.close(() => {
      clearTimeout(force);
      resolve();
    });
    for (const session of sessions) session.close();
  });
}

/** Reads one unary call and answers it; every failure becomes a gRPC status, never an exception. */
function handleCall(stream: ServerHttp2Stream, headers: IncomingHttpHeaders, options: OtlpGrpcOptions): void {
  const { logger, maxRequestBytes } = options;
  // A client reset (cancelled call) surfaces as a stream 'error': routine, nobody to answer.
  stream.on('error', (err) => logger.debug({ err }, 'local OTLP/gRPC call failed'));

  if (headers[':method'] !== 'POST') {
    refuseHttp(stream, 405, 'method not allowed: gRPC calls are POST', { allow: 'POST' });
    return;
  }
  const type = String(headers['content-type'] ?? '');
  if (!/^application\/grpc($|[+;])/i.test(type)) {
    // The gRPC spec asks for a plain HTTP 415 when the content type is not gRPC at all.
    refuseHttp(stream, 415, `unsupported content-type '${type}': OTLP/gRPC is ${GRPC_TYPE}`);
    return;
  }
  if (!/^application\/grpc(\+proto)?\s*($|;)/i.test(type)) {
    refuse(stream, GRPC_STATUS.UNIMPLEMENTED, `unsupported content-type '${type}': OTLP/gRPC messages are protobuf`);
    return;
  }
  const path = String(headers[':path'] ?? '');
  const signal = SIGNAL_OF_PATH.get(path);
  if (!signal) {
    refuse(stream, GRPC_STATUS.UNIMPLEMENTED, `unknown method ${path}: this server implements only OTLP Export`);
    return;
  }
  const encoding = String(headers['grpc-encoding'] ?? 'identity').trim().toLowerCase();
  if (encoding !== 'identity' && !SUPPORTED_ENCODINGS.includes(encoding)) {
    refuse(stream, GRPC_STATUS.UNIMPLEMENTED, `unsupported grpc-encoding '${encoding}': use ${ACCEPT_ENCODING}`);
    return;
  }

  let answered = false;
  const answer = (code: number, message: string) => {
    answered = true;
    refuse(stream, code, message);
  };
  // Not the client's grpc-timeout, whose expiry the client acts on itself: only a bound on
  // calls that stall (a body never finished, an ingest that never returns).
  stream.setTimeout(options.streamIdleTimeoutMs ?? 30_000, () => {
    if (!answered) answer(GRPC_STATUS.DEADLINE_EXCEEDED, 'the call was idle for too long');
    else if (!stream.destroyed) stream.close(http2.constants.NGHTTP2_CANCEL);
  });

  readMessage(stream, maxRequestBytes, (read) => {
    if (answered) return;
    if ('code' in read) {
      answer(read.code, read.message);
      return;
    }
    exportMessage(signal, read.compressed, read.message, encoding, options)
      .then((outcome) => {
        if (answered) return; // the idle timeout answered meanwhile
        answered = true;
        if ('code' in outcome) refuse(stream, outcome.code, outcome.message, outcome.details);
        else respond(stream, outcome.body);
      })
      // A stream torn down between the checks and the write: an unhandled rejection would end the agent.
      .catch((err: unknown) => {
        logger.debug({ err }, 'local OTLP/gRPC answer could not be sent');
        if (!stream.destroyed) stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
      });
  });
}

type Read = { compressed: boolean; message: Buffer } | { code: number; message: string };

/**
 * The request's single length-prefixed message (1-byte compressed flag, 4-byte big-endian
 * length). A length over `limit` is refused from the 5-byte prefix, before any of the message
 * is buffered; the message buffer is allocated once, at the announced length. `done` is not
 * called when the client goes away first.
 */
function readMessage(stream: ServerHttp2Stream, limit: number, done: (read: Read) => void): void {
  const prefix = Buffer.alloc(FRAME_HEADER);
  let prefixed = 0;
  let message: Buffer | undefined;
  let filled = 0;
  let finished = false;
  const finish = (read: Read) => {
    if (finished) return;
    finished = true;
    stream.off('data', onData);
    stream.off('end', onEnd);
    // The rest of an unwanted body is dropped as it comes, never buffered.
    stream.resume();
    done(read);
  };
  const onData = (chunk: Buffer) => {
    let at = 0;
    while (at < chunk.length) {
      if (!message) {
        const n = Math.min(FRAME_HEADER - prefixed, chunk.length - at);
        chunk.copy(prefix, prefixed, at, at + n);
        prefixed += n;
        at += n;
        if (prefixed < FRAME_HEADER) return;
        const flag = prefix[0];
        const length = prefix.readUInt32BE(1);
        if (flag > 1) return finish({ code: GRPC_STATUS.INTERNAL, message: `invalid compressed flag ${flag} in the message prefix` });
        if (length > limit) return finish({ code: GRPC_STATUS.RESOURCE_EXHAUSTED, message: `Received message larger than max (${length} vs ${limit})` });
        message = Buffer.allocUnsafe(length);
      } else if (filled < message.length) {
        const n = Math.min(message.length - filled, chunk.length - at);
        chunk.copy(message, filled, at, at + n);
        filled += n;
        at += n;
      } else {
        return finish({ code: GRPC_STATUS.INTERNAL, message: 'more than one request message for a unary call' });
      }
    }
  };
  const onEnd = () => {
    if (!message || filled < message.length) finish({ code: GRPC_STATUS.INTERNAL, message: 'the request ended before a complete message' });
    else finish({ compressed: prefix[0] === 1, message });
  };
  stream.on('data', onData);
  stream.on('end', onEnd);
}

type Outcome = { body: Uint8Array } | { code: number; message: string; details?: Buffer };

/** Decompresses and ingests one message; what the client is to be told, never a rejection. */
async function exportMessage(signal: Signal, compressed: boolean, message: Buffer, encoding: string, options: OtlpGrpcOptions): Promise<Outcome> {
  const { maxRequestBytes, logger } = options;
  let payload = message;
  if (compressed) {
    // The spec's answer to a compressed message without an encoding to undo it.
    if (encoding === 'identity') return { code: GRPC_STATUS.INTERNAL, message: 'compressed message without a grpc-encoding' };
    try {
      payload = await decodeContentEncoding(message, encoding, maxRequestBytes);
    } catch (err) {
      if (err instanceof PayloadTooLargeError) {
        return { code: GRPC_STATUS.RESOURCE_EXHAUSTED, message: `Received message that decompresses to a size larger than ${maxRequestBytes}` };
      }
      return { code: GRPC_STATUS.INTERNAL, message: `could not decompress the ${encoding} message: ${(err as Error).message}` };
    }
  }
  try {
    const result = await options.ingest(signal, payload);
    return { body: exportResponseProto(signal, result.rejected, result.message) };
  } catch (err) {
    if (err instanceof IngestError) {
      const code = err.grpcCode;
      const retryable = code === GRPC_STATUS.RESOURCE_EXHAUSTED || code === GRPC_STATUS.UNAVAILABLE;
      const details = retryable && err.retryAfterSeconds !== undefined ? encodeRetryStatus(code, err.message, err.retryAfterSeconds) : undefined;
      return { code, message: err.message, details };
    }
    logger.error({ err, signal }, 'local OTLP/gRPC export failed');
    return { code: GRPC_STATUS.INTERNAL, message: 'internal error' };
  }
}

/** Success: headers, the response as one uncompressed length-prefixed message, then trailers. */
function respond(stream: ServerHttp2Stream, body: Uint8Array): void {
  if (stream.destroyed || stream.headersSent) return;
  const frame = Buffer.allocUnsafe(FRAME_HEADER + body.length);
  frame[0] = 0;
  frame.writeUInt32BE(body.length, 1);
  frame.set(body, FRAME_HEADER);
  stream.respond({ ':status': 200, 'content-type': GRPC_TYPE, 'grpc-accept-encoding': ACCEPT_ENCODING }, { waitForTrailers: true });
  stream.once('wantTrailers', () => stream.sendTrailers({ 'grpc-status': String(GRPC_STATUS.OK) }));
  stream.end(frame);
}

/** An error as a trailers-only response: status and message in the one HEADERS frame. */
function refuse(stream: ServerHttp2Stream, code: number, message: string, details?: Buffer): void {
  const headers: OutgoingHttpHeaders = {
    ':status': 200,
    'content-type': GRPC_TYPE,
    'grpc-accept-encoding': ACCEPT_ENCODING,
    'grpc-status': String(code),
    'grpc-message': percentEncode(message),
  };
  // Binary headers are base64; the spec asks senders to leave out the padding.
  if (details) headers[STATUS_DETAILS_KEY] = details.toString('base64').replace(/=+$/, '');
  endWith(stream, headers);
}

function refuseHttp(stream: ServerHttp2Stream, status: number, message: string, extra: OutgoingHttpHeaders = {}): void {
  endWith(stream, { ':status': status, 'content-type': 'text/plain', ...extra }, `${message}\n`);
}

/**
 * Answers, then, if the client is still sending, resets the stream with NO_ERROR once the
 * answer is out: HTTP/2's way to say "stop sending, the response is complete" (RFC 9113 8.1).
 */
function endWith(stream: ServerHttp2Stream, headers: OutgoingHttpHeaders, body?: string): void {
  if (stream.destroyed || stream.headersSent) return;
  if (body === undefined) stream.respond(headers, { endStream: true });
  else {
    stream.respond(headers);
    stream.end(body);
  }
  if (!stream.readableEnded) stream.close(http2.constants.NGHTTP2_NO_ERROR);
}

/**
 * grpc-message as the gRPC spec encodes it: UTF-8, every byte outside printable ASCII, and
 * '%' itself, as %XX.
 */
export function percentEncode(message: string): string {
  let out = '';
  for (const byte of Buffer.from(message, 'utf8')) {
    out += byte >= 0x20 && byte <= 0x7e && byte !== 0x25 ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}
