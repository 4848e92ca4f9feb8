/**
 * OTLP/protobuf: Export requests to and from bytes, with the generated protobufjs classes as the
 * message model. Decoding first runs a strict wire validation (see validate.ts), then the
 * generated decoder; every failure surfaces as OtlpDecodeError.
 */
import $protobuf from 'protobufjs/minimal.js';
import { OtlpDecodeError } from './errors.ts';
import { opentelemetry } from './generated/otlp.js';
import { REQUEST_SPECS, protobufDepthFor } from './schema.ts';
import { validateWire } from './validate.ts';
import type { Signal } from '../telemetry/signals.ts';

type TraceRequest = opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest.$Properties;
type MetricsRequest = opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest.$Properties;
type LogsRequest = opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest.$Properties;

type Scalar = string | number | boolean | bigint | Uint8Array | { low: number; high: number; unsigned: boolean };
type DecodedField<V> = NonNullable<V> extends Scalar ? V : Decoded<NonNullable<V>> | null | undefined;
/**
 * A decoded message, typed more precisely than the generated typings (which reuse the
 * all-optional property interfaces for nested messages): repeated fields of decoded messages
 * are always arrays, so they are typed as such, all the way down.
 */
export type Decoded<T> = T extends Scalar
  ? T
  : {
      [K in keyof T as K extends '$unknowns' ? never : NonNullable<T[K]> extends readonly unknown[] ? never : K]: DecodedField<T[K]>;
    } & {
      [K in keyof T as K extends '$unknowns' ? never : NonNullable<T[K]> extends readonly unknown[] ? K : never]-?: NonNullable<T[K]> extends readonly (infer U)[]
        ? Decoded<U>[]
        : never;
    } & { $unknowns?: Uint8Array[] };

/** The Export request message of each signal, as decodeRequest and requestFromJson return it. */
export interface ExportRequestBySignal {
  traces: Decoded<TraceRequest>;
  metrics: Decoded<MetricsRequest>;
  logs: Decoded<LogsRequest>;
}
export type ExportRequest<S extends Signal = Signal> = ExportRequestBySignal[S];

/** What encodeRequest accepts: a generated message or a plain object of the same shape. */
export interface ExportRequestPropertiesBySignal {
  traces: opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest.$Properties;
  metrics: opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest.$Properties;
  logs: opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest.$Properties;
}

/** Deepest AnyValue nesting accepted (an attribute holding a plain string is depth 1). */
export const DEFAULT_MAX_ANY_VALUE_DEPTH = 32;

export interface DecodeOptions {
  maxAnyValueDepth?: number;
}

interface GeneratedRequestClass {
  decode(reader: Uint8Array): object;
  encode(message: object): { finish(): Uint8Array };
}

const CLASSES: Record<Signal, GeneratedRequestClass> = {
  traces: opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest,
  metrics: opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest,
  logs: opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest,
};

function classFor(signal: Signal): GeneratedRequestClass {
  const cls = Object.hasOwn(CLASSES, signal) ? CLASSES[signal] : undefined;
  if (cls === undefined) throw new TypeError(`unknown signal ${JSON.stringify(signal)}`);
  return cls;
}

/**
 * protobufjs guards its own recursion with a global limit (100) that a request with the allowed
 * AnyValue depth can exceed; our validator enforces the real bound, so raise theirs to match.
 */
function allowProtobufDepth(anyValueDepth: number): void {
  const needed = protobufDepthFor(anyValueDepth);
  if ($protobuf.util.recursionLimit < needed) $protobuf.util.recursionLimit = needed;
  if ($protobuf.Reader.recursionLimit < needed) $protobuf.Reader.recursionLimit = needed;
}
allowProtobufDepth(DEFAULT_MAX_ANY_VALUE_DEPTH);

function maxDepthOf(options: DecodeOptions | undefined): number {
  const depth = options?.maxAnyValueDepth ?? DEFAULT_MAX_ANY_VALUE_DEPTH;
  if (!Number.isInteger(depth) || depth < 1 || depth > 10000) {
    throw new RangeError(`maxAnyValueDepth must be an integer in 1..10000, got ${depth}`);
  }
  if (depth > DEFAULT_MAX_ANY_VALUE_DEPTH) allowProtobufDepth(depth);
  return depth;
}

/** Decodes an OTLP/protobuf Export request; throws OtlpDecodeError for anything malformed. */
export function decodeRequest<S extends Signal>(signal: S, bytes: Uint8Array, options?: DecodeOptions): ExportRequestBySignal[S] {
  const cls = classFor(signal);
  if (!(bytes instanceof Uint8Array)) throw new OtlpDecodeError('expected protobuf bytes (a Uint8Array)');
  validateWire(REQUEST_SPECS[signal], bytes, maxDepthOf(options));
  try {
    return cls.decode(bytes) as ExportRequestBySignal[S];
  } catch (err) {
    // The wire structure was validated, so what remains here is content (e.g. invalid UTF-8).
    throw new OtlpDecodeError(`invalid ${signal} request: ${(err as Error).message}`, undefined, { cause: err });
  }
}

/** Encodes an Export request (generated message or same-shaped plain object) to OTLP/protobuf bytes. */
export function encodeRequest<S extends Signal>(
  signal: S,
  message: ExportRequestBySignal[S] | ExportRequestPropertiesBySignal[S],
): Uint8Array {
  return classFor(signal).encode(message).finish();
}
