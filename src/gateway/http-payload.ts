/**
 * OTLP/HTTP bodies to OTLP protobuf payloads, shared by the gateway's receiver and the
 * agent's lean one, so both decompress, convert and refuse the same way. No HTTP server here:
 * the agent's bundle must not pull in Fastify through this file.
 */
import { OtlpDecodeError, encodeRequest, requestFromJson } from '../otlp/index.ts';
import type { Signal } from '../telemetry/signals.ts';
import { BadEncodingError, PayloadTooLargeError, UnsupportedEncodingError, decodeContentEncoding } from './decompress.ts';
import { IngestError } from './ingest-error.ts';

export const PROTOBUF_TYPES: ReadonlySet<string> = new Set(['application/x-protobuf', 'application/protobuf']);
export const JSON_TYPE = 'application/json';

export type BodyEncoding = 'protobuf' | 'json';

/** The body's encoding from a Content-Type header (parameters ignored); undefined = not OTLP. */
export function bodyEncoding(contentType: string | undefined): BodyEncoding | undefined {
  const type = (contentType ?? '').split(';')[0].trim().toLowerCase();
  if (type === JSON_TYPE) return 'json';
  return PROTOBUF_TYPES.has(type) ? 'protobuf' : undefined;
}

/** The 415 answer's message, the same from every OTLP/HTTP receiver. */
export function unsupportedContentType(contentType: string | undefined): string {
  return `unsupported Content-Type '${contentType ?? ''}': use application/x-protobuf or application/json`;
}

/** The request as OTLP protobuf bytes: decompressed, and converted once when it came as JSON. */
export async function requestPayload(signal: Signal, encoding: BodyEncoding, body: Buffer, contentEncoding: string | undefined, limit: number): Promise<Uint8Array> {
  const payload = await decodeContentEncoding(body, contentEncoding, limit);
  if (encoding === 'protobuf') return payload;
  let json: unknown;
  try {
    json = JSON.parse(payload.toString('utf8'));
  } catch (err) {
    throw new IngestError('invalid', `body is not valid JSON: ${(err as Error).message}`);
  }
  try {
    // JSON is the slow path by nature; it becomes protobuf once, here, so the bus carries one format.
    return encodeRequest(signal, requestFromJson(signal, json));
  } catch (err) {
    if (err instanceof OtlpDecodeError) throw new IngestError('invalid', `malformed OTLP payload: ${err.message}`);
    throw err;
  }
}

/** The refusal a client is told about; anything else is a fault of ours and is thrown again. */
export function classify(err: unknown): IngestError {
  if (err instanceof IngestError) return err;
  if (err instanceof OtlpDecodeError) return new IngestError('invalid', `malformed OTLP payload: ${err.message}`);
  if (err instanceof PayloadTooLargeError) return new IngestError('too-large', err.message);
  if (err instanceof UnsupportedEncodingError) return new IngestError('unsupported', err.message);
  if (err instanceof BadEncodingError) return new IngestError('invalid', err.message);
  throw err;
}
