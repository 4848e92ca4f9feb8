/**
 * The rich gRPC status of a retryable refusal: a google.rpc.Status carrying a RetryInfo, sent
 * in the `grpc-status-details-bin` trailer. OTLP/gRPC clients (the Collector, the Go and Java
 * SDKs) drop data answered RESOURCE_EXHAUSTED unless a RetryInfo says when to try again, and
 * use its delay in place of their own backoff for UNAVAILABLE. Four tiny messages, written
 * by hand rather than generated:
 *   google.rpc.Status        { int32 code = 1; string message = 2; repeated google.protobuf.Any details = 3; }
 *   google.protobuf.Any      { string type_url = 1; bytes value = 2; }
 *   google.rpc.RetryInfo     { google.protobuf.Duration retry_delay = 1; }
 *   google.protobuf.Duration { int64 seconds = 1; int32 nanos = 2; }
 * Bytes only, no grpc-js: the agent's lean gRPC server on node:http2 writes the same trailer.
 */

export const RETRY_INFO_TYPE_URL = 'type.googleapis.com/google.rpc.RetryInfo';
export const STATUS_DETAILS_KEY = 'grpc-status-details-bin';

const VARINT = 0;
const LEN = 2;

/** Non-negative integers up to 2^53, so int64 seconds need no BigInt. */
function varint(n: number, out: number[]): void {
  while (n > 0x7f) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
}

function varintField(field: number, n: number): Buffer {
  if (n === 0) return Buffer.alloc(0); // proto3: zero is the default and is not written
  const out: number[] = [(field << 3) | VARINT];
  varint(n, out);
  return Buffer.from(out);
}

function bytesField(field: number, bytes: Uint8Array): Buffer {
  const head: number[] = [(field << 3) | LEN];
  varint(bytes.length, head);
  return Buffer.concat([Buffer.from(head), bytes]);
}

/** A Duration of whole and fractional seconds; negative or non-finite becomes zero. */
function encodeDuration(seconds: number): Buffer {
  const s = Number.isFinite(seconds) && seconds > 0 ? seconds : 0;
  const whole = Math.floor(s);
  const nanos = Math.min(999_999_999, Math.round((s - whole) * 1e9));
  return Buffer.concat([varintField(1, whole), varintField(2, nanos)]);
}

export function encodeRetryInfo(retryAfterSeconds: number): Buffer {
  return bytesField(1, encodeDuration(retryAfterSeconds));
}

/** google.rpc.Status{code, message, details: [Any(RetryInfo{retry_delay})]}. */
export function encodeRetryStatus(code: number, message: string, retryAfterSeconds: number): Buffer {
  const any = Buffer.concat([bytesField(1, Buffer.from(RETRY_INFO_TYPE_URL, 'utf8')), bytesField(2, encodeRetryInfo(retryAfterSeconds))]);
  return Buffer.concat([varintField(1, code), bytesField(2, Buffer.from(message, 'utf8')), bytesField(3, any)]);
}
