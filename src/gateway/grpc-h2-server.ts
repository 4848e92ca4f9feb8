/**
 * OTLP/gRPC (unary Export calls only) on Node's built-in node:http2, h2c: cleartext HTTP/2
 * with prior knowledge, what gRPC clients speak to an http:// endpoint. The one gRPC server
 * of both the gateway (grpc-receiver.ts) and the agent (src/agent/otlp-grpc.ts), in place of
 * grpc-js: grpc-js costs the agent about 5 MB of RSS, and it held the gateway to about two
 * thirds of what the same pipeline takes over OTLP/HTTP, while OTLP/gRPC needs nothing but
 * one length-prefixed request message, one response message, then trailers.
 * Users plug in through hooks: authentication from the headers before any body byte is read,
 * an in-flight byte budget reserved from the message prefix, ingest, and a report per answer.
 * It must import neither grpc-js nor Fastify: the agent bundles it.
 */
import http2, { type IncomingHttpHeaders, type ServerHttp2Session, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../selfobs/log.ts';
import type { Signal, TenantId } from '../telemetry/signals.ts';
import { inflightRefusal, type InflightBudget } from './admission/inflight-budget.ts';
import { decodeContentEncoding, PayloadTooLargeError, SUPPORTED_ENCODINGS } from './decompress.ts';
import { exportResponseProto } from './export-response.ts';
import { readMessage } from './grpc-h2-message.ts';
import { ACCEPT_ENCODING, GRPC_STATUS, GRPC_TYPE, OTLP_GRPC_EXPORT_PATHS, refuse, refuseHttp, respond, type Refusal } from './grpc-h2-wire.ts';
import { encodeRetryStatus } from './grpc-status-body.ts';
import { IngestError } from './ingest-error.ts';
import type { IngestResult } from './pipeline.ts';

/** How one call on an Export path was answered, for the user's metrics. */
export interface GrpcCallReport {
  signal: Signal;
  code: number;
  /** The message's size once decompressed; only for calls whose message reached ingest. */
  bytes?: number;
  /** Items ingest accepted; only for OK. */
  accepted?: number;
  /** From the whole message read to the answer; only for calls whose message reached ingest. */
  seconds?: number;
}

export interface GrpcH2ServerOptions {
  host: string;
  /** 0 = any free port. */
  port: number;
  /** Names the server in its log lines. */
  name: string;
  logger: Logger;
  /** Largest request message accepted, compressed as sent and again once decompressed. */
  maxRequestBytes: number;
  /** A call with no traffic for this long is answered DEADLINE_EXCEEDED. Default 30 000 ms. */
  streamIdleTimeoutMs?: number;
  /** How long close() lets calls in progress answer before cutting them. */
  drainTimeoutMs: number;
  /**
   * The status of a unary call with no request message or more than one: UNIMPLEMENTED in the
   * gRPC status-code table (and from grpc-js); the agent has always answered INTERNAL.
   */
  cardinalityCode: number;
  /** From the call's headers, before any of its body is read or inflated: its tenant, or the refusal. */
  authenticate?(headers: IncomingHttpHeaders): TenantId | IngestError;
  /** Bytes held at once across calls (and other transports); omitted = unbounded. */
  inflight?: InflightBudget;
  /** `tenant` is undefined without `authenticate`; `headers` carry metadata such as idempotency-key. */
  ingest(tenant: TenantId | undefined, signal: Signal, payload: Buffer, headers: IncomingHttpHeaders): Promise<IngestResult>;
  /** Called once per answered call on an Export path. */
  onAnswer?(report: GrpcCallReport): void;
}

export interface GrpcH2Server {
  readonly port: number;
  /** Stops taking calls, lets those in progress answer, cuts the rest after drainTimeoutMs. */
  close(): Promise<void>;
}

const SIGNAL_OF_PATH = new Map<string, Signal>(Object.entries(OTLP_GRPC_EXPORT_PATHS).map(([signal, path]) => [path, signal as Signal]));

/**
 * Per connection: 100 calls at once (what grpc-go and grpc-java allow by default), 16 KiB of
 * headers (gRPC clients send well under 8 KiB of metadata), and nghttp2's own buffers capped
 * at 8 MB; request messages are buffered by grpc-h2-message.ts, not by nghttp2, and are
 * bounded by maxRequestBytes. Flow-control windows of 1 MiB a call and 4 MiB a connection,
 * not HTTP/2's 64 KiB: OTLP messages run to hundreds of KiB, and at 64 KiB a client stalls on
 * a WINDOW_UPDATE round trip every 64 KiB; in the benchmark the larger windows took the
 * gateway from about 250k to 500k-700k spans per second. Bytes are read off the stream as they arrive, so the windows
 * add no buffering of their own.
 */
const SERVER_OPTIONS: http2.ServerOptions = {
  maxSessionMemory: 8,
  peerMaxConcurrentStreams: 100,
  settings: { maxConcurrentStreams: 100, maxHeaderListSize: 16 * 1024, initialWindowSize: 1024 * 1024 },
};
const CONNECTION_WINDOW = 4 * 1024 * 1024;

/** Resolves once listening; a taken port rejects with the listen error (code EADDRINUSE). */
export function startGrpcH2Server(options: GrpcH2ServerOptions): Promise<GrpcH2Server> {
  const { logger, maxRequestBytes, name } = options;
  if (!Number.isSafeInteger(maxRequestBytes) || maxRequestBytes <= 0) {
    return Promise.reject(new Error(`maxRequestBytes: expected a positive integer, got ${maxRequestBytes}`));
  }
  const sessions = new Set<ServerHttp2Session>();
  let closing: Promise<void> | undefined;
  const server = http2.createServer(SERVER_OPTIONS);
  server.on('session', (session) => {
    sessions.add(session);
    session.setLocalWindowSize(CONNECTION_WINDOW);
    session.once('close', () => sessions.delete(session));
    if (closing) session.close();
  });
  // An Http2Session 'error' without a listener would crash the process; a broken client is not fatal.
  server.on('sessionError', (err) => logger.debug({ err }, `${name} connection failed`));
  server.on('stream', (stream, headers) => handleCall(stream, headers, options));

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      server.on('error', (err) => logger.error({ err }, `${name} server error`));
      resolve({
        port: (server.address() as AddressInfo).port,
        close: () => (closing ??= drain(server, sessions, options.drainTimeoutMs, logger, name)),
      });
    });
  });
}

/**
 * Stops accepting connections and sends every connection a GOAWAY (session.close()), so
 * clients open no new calls on it while those in progress answer; after `timeoutMs` the
 * sessions left are destroyed, cutting their calls.
 */
function drain(server: http2.Http2Server, sessions: Set<ServerHttp2Session>, timeoutMs: number, logger: Logger, name: string): Promise<void> {
  return new Promise((resolve) => {
    const force = setTimeout(() => {
      logger.warn({ timeoutMs }, `${name} calls still open at shutdown; closing them`);
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
function handleCall(stream: ServerHttp2Stream, headers: IncomingHttpHeaders, options: GrpcH2ServerOptions): void {
  const { logger, name } = options;
  // A client reset (cancelled call) surfaces as a stream 'error': routine, nobody to answer.
  stream.on('error', (err) => logger.debug({ err }, `${name} call failed`));

  if (headers[':method'] !== 'POST') {
    refuseHttp(stream, 405, 'method not allowed: gRPC calls are POST', { allow: 'POST' });
    return;
  }
  const type = String(headers['content-type'] ?? '');
  if (type !== GRPC_TYPE && !/^application\/grpc($|[+;])/i.test(type)) {
    // The gRPC spec asks for a plain HTTP 415 when the content type is not gRPC at all.
    refuseHttp(stream, 415, `unsupported content-type '${type}': OTLP/gRPC is ${GRPC_TYPE}`);
    return;
  }
  const path = String(headers[':path'] ?? '');
  const signal = SIGNAL_OF_PATH.get(path);

  let answered = false;
  const answer = (refusal: Refusal) => {
    answered = true;
    if (signal) options.onAnswer?.({ signal, code: refusal.code });
    refuse(stream, refusal);
  };
  if (type !== GRPC_TYPE && !/^application\/grpc(\+proto)?\s*($|;)/i.test(type)) {
    answer({ code: GRPC_STATUS.UNIMPLEMENTED, message: `unsupported content-type '${type}': OTLP/gRPC messages are protobuf` });
    return;
  }
  if (!signal) {
    answer({ code: GRPC_STATUS.UNIMPLEMENTED, message: `unknown method ${path}: this server implements only OTLP Export` });
    return;
  }
  const encoding = String(headers['grpc-encoding'] ?? 'identity').trim().toLowerCase();
  if (encoding !== 'identity' && !SUPPORTED_ENCODINGS.includes(encoding)) {
    answer({ code: GRPC_STATUS.UNIMPLEMENTED, message: `unsupported grpc-encoding '${encoding}': use ${ACCEPT_ENCODING}` });
    return;
  }
  let tenant: TenantId | undefined;
  if (options.authenticate) {
    const auth = options.authenticate(headers);
    if (auth instanceof IngestError) {
      answer({ code: auth.grpcCode, message: auth.message });
      return;
    }
    tenant = auth;
  }

  // Not the client's grpc-timeout, whose expiry the client acts on itself: only a bound on
  // calls that stall (a body never finished, an ingest that never returns).
  stream.setTimeout(options.streamIdleTimeoutMs ?? 30_000, () => {
    if (!answered) answer({ code: GRPC_STATUS.DEADLINE_EXCEEDED, message: 'the call was idle for too long' });
    else if (!stream.destroyed) stream.close(http2.constants.NGHTTP2_CANCEL);
  });

  const { inflight } = options;
  const admit = inflight
    ? (length: number): Refusal | undefined => {
        // Over the process's in-flight budget: UNAVAILABLE with RetryInfo at once, never a queue.
        if (!inflight.tryReserve(length)) return outcomeOf(inflightRefusal(inflight), signal, options);
        // 'close' comes however the call ends: answered, reset by the client, cut at shutdown.
        stream.once('close', () => inflight.release(length));
        return undefined;
      }
    : undefined;

  readMessage(stream, { limit: options.maxRequestBytes, cardinalityCode: options.cardinalityCode, admit }, (read) => {
    if (answered) return;
    if ('code' in read) {
      answer(read);
      return;
    }
    exportMessage(tenant, signal, read.compressed, read.message, encoding, headers, options)
      .then((outcome) => {
        if (answered) return; // the idle timeout answered meanwhile
        answered = true;
        options.onAnswer?.(outcome.report);
        if ('body' in outcome) respond(stream, outcome.body);
        else refuse(stream, outcome);
      })
      // A stream torn down between the checks and the write: an unhandled rejection would end the process.
      .catch((err: unknown) => {
        logger.debug({ err }, `${name} answer could not be sent`);
        if (!stream.destroyed) stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
      });
  });
}

type Outcome = ({ body: Uint8Array } | Refusal) & { report: GrpcCallReport };

/** Decompresses and ingests one message; what the client is to be told, never a rejection. */
async function exportMessage(
  tenant: TenantId | undefined,
  signal: Signal,
  compressed: boolean,
  message: Buffer,
  encoding: string,
  headers: IncomingHttpHeaders,
  options: GrpcH2ServerOptions,
): Promise<Outcome> {
  const { maxRequestBytes } = options;
  let payload = message;
  if (compressed) {
    const refused = (code: number, text: string): Outcome => ({ code, message: text, report: { signal, code } });
    // The spec's answer to a compressed message without an encoding to undo it.
    if (encoding === 'identity') return refused(GRPC_STATUS.INTERNAL, 'compressed message without a grpc-encoding');
    try {
      payload = await decodeContentEncoding(message, encoding, maxRequestBytes);
    } catch (err) {
      if (err instanceof PayloadTooLargeError) {
        return refused(GRPC_STATUS.RESOURCE_EXHAUSTED, `Received message that decompresses to a size larger than ${maxRequestBytes}`);
      }
      return refused(GRPC_STATUS.INTERNAL, `could not decompress the ${encoding} message: ${(err as Error).message}`);
    }
  }
  const started = performance.now();
  const bytes = payload.length;
  try {
    const result = await options.ingest(tenant, signal, payload, headers);
    const seconds = (performance.now() - started) / 1000;
    return { body: exportResponseProto(signal, result.rejected, result.message), report: { signal, code: GRPC_STATUS.OK, bytes, accepted: result.accepted, seconds } };
  } catch (err) {
    const seconds = (performance.now() - started) / 1000;
    const refusal = outcomeOf(err, signal, options);
    return { ...refusal, report: { signal, code: refusal.code, bytes, seconds } };
  }
}

/** An IngestError as its gRPC status (with RetryInfo when the client may retry); anything else as INTERNAL. */
function outcomeOf(err: unknown, signal: Signal, options: GrpcH2ServerOptions): Refusal {
  if (err instanceof IngestError) {
    const code = err.grpcCode;
    const retryable = code === GRPC_STATUS.RESOURCE_EXHAUSTED || code === GRPC_STATUS.UNAVAILABLE;
    const details = retryable && err.retryAfterSeconds !== undefined ? encodeRetryStatus(code, err.message, err.retryAfterSeconds) : undefined;
    return { code, message: err.message, details };
  }
  options.logger.error({ err, signal }, `${options.name} export failed`);
  return { code: GRPC_STATUS.INTERNAL, message: 'internal error' };
}
