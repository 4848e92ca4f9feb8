/**
 * What the lean gRPC server (grpc-h2-server.ts) writes on the wire: the status codes it uses,
 * the OTLP Export paths, and its three kinds of answer (a message then trailers, a
 * trailers-only error, a plain HTTP refusal). No grpc-js types: the agent bundles this file.
 */
import http2, { type OutgoingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import type { Signal } from '../telemetry/signals.ts';
import { SUPPORTED_ENCODINGS } from './decompress.ts';
import { STATUS_DETAILS_KEY } from './grpc-status-body.ts';

/** The gRPC status codes this server answers with (grpc/doc/statuscodes.md). */
export const GRPC_STATUS = {
  OK: 0,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  RESOURCE_EXHAUSTED: 8,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

/**
 * The same paths as grpc-services.ts, written again because that file imports grpc-js types;
 * the agent's test holds the two equal.
 */
export const OTLP_GRPC_EXPORT_PATHS: Record<Signal, string> = {
  traces: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
  metrics: '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export',
  logs: '/opentelemetry.proto.collector.logs.v1.LogsService/Export',
};

export const GRPC_TYPE = 'application/grpc';
export const ACCEPT_ENCODING = ['identity', ...SUPPORTED_ENCODINGS].join(',');
export const FRAME_HEADER = 5;

/** A gRPC error answer: the status, its message and, for a retryable one, a google.rpc.Status with RetryInfo. */
export interface Refusal {
  code: number;
  message: string;
  details?: Buffer;
}

/** Success: headers, the response as one uncompressed length-prefixed message, then trailers. */
export function respond(stream: ServerHttp2Stream, body: Uint8Array): void {
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
export function refuse(stream: ServerHttp2Stream, { code, message, details }: Refusal): void {
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

export function refuseHttp(stream: ServerHttp2Stream, status: number, message: string, extra: OutgoingHttpHeaders = {}): void {
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
