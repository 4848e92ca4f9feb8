/**
 * Spans, resources and scopes to and from the protobuf encodings the sampler holds them in.
 *
 * Encoding reuses one writer, so a span costs no allocation beyond its copy into a slab. Decoding
 * is lenient about UTF-8: a lone UTF-16 surrogate (which OTLP/JSON can carry) encodes to bytes that
 * are not valid UTF-8, and the generated decoder would reject the whole span; it becomes U+FFFD,
 * as any UTF-8 encoder downstream would make it.
 */
import protobuf from 'protobufjs/minimal.js';
import { opentelemetry } from '../../otlp/index.ts';
import type { Span } from './held-span.ts';

type Resource = opentelemetry.proto.resource.v1.Resource.$Properties;
type Scope = opentelemetry.proto.common.v1.InstrumentationScope.$Properties;

const SpanMessage = opentelemetry.proto.trace.v1.Span;
const ResourceMessage = opentelemetry.proto.resource.v1.Resource;
const ScopeMessage = opentelemetry.proto.common.v1.InstrumentationScope;

/** A writer that grew past this for one huge message is replaced rather than kept that large. */
const MAX_RETAINED_WRITER_BYTES = 1 << 20;

let writer = protobuf.Writer.create();

function encodeWith(encode: (w: protobuf.Writer) => void): Uint8Array {
  if (writer.pos > MAX_RETAINED_WRITER_BYTES) writer = protobuf.Writer.create();
  else writer.reset();
  try {
    encode(writer);
  } catch (err) {
    // Half-written, possibly with open length prefixes: start over with a clean writer.
    writer = protobuf.Writer.create();
    throw err;
  }
  return writer.finish(true);
}

/** The span's encoding, in a buffer the next encode call reuses: copy it before then. */
export function encodeSpan(span: Span): Uint8Array {
  return encodeWith((w) => SpanMessage.encode(span, w));
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** A resource's encoding as a one-byte string (compact on the heap, and usable as a map key); null if absent. */
export function encodeResource(resource: Resource | null | undefined): string | null {
  if (resource == null) return null;
  return asBuffer(encodeWith((w) => ResourceMessage.encode(resource, w))).toString('latin1');
}

/** An instrumentation scope's encoding as a one-byte string; null if absent. */
export function encodeScope(scope: Scope | null | undefined): string | null {
  if (scope == null) return null;
  return asBuffer(encodeWith((w) => ScopeMessage.encode(scope, w))).toString('latin1');
}

function lenientReader(bytes: Buffer): protobuf.Reader {
  const reader = protobuf.Reader.create(bytes);
  // The generated decoders read every string field through stringVerify.
  reader.stringVerify = reader.string;
  return reader;
}

/**
 * Decodes spans encoded back to back in `bytes`, of the given lengths, in order. Their bytes
 * fields (ids) are views into `bytes`.
 */
export function decodeSpans(bytes: Buffer, lengths: readonly number[]): opentelemetry.proto.trace.v1.Span[] {
  const reader = lenientReader(bytes);
  const spans: opentelemetry.proto.trace.v1.Span[] = [];
  for (const length of lengths) spans.push(SpanMessage.decode(reader, length));
  return spans;
}

export function decodeResource(encoded: string | null): opentelemetry.proto.resource.v1.Resource | undefined {
  return encoded === null ? undefined : ResourceMessage.decode(lenientReader(Buffer.from(encoded, 'latin1')));
}

export function decodeScope(encoded: string | null): opentelemetry.proto.common.v1.InstrumentationScope | undefined {
  return encoded === null ? undefined : ScopeMessage.decode(lenientReader(Buffer.from(encoded, 'latin1')));
}
