/**
 * The three OTLP collector services as grpc-js service definitions, written by hand so that
 * no message is decoded by protobufjs: a request arrives as the raw (decompressed) protobuf
 * Buffer, which the pipeline's wire scanner reads, and a response goes out as the bytes
 * exportResponseProto wrote. Clients (tests, the bench) use the same definitions: every
 * (de)serializer is the identity on bytes.
 */
import type { MethodDefinition, ServiceDefinition } from '@grpc/grpc-js';
import type { Signal } from '../telemetry/signals.ts';

/** Full method paths, as OTLP/gRPC clients call them. */
export const OTLP_GRPC_PATHS: Record<Signal, string> = {
  traces: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
  metrics: '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export',
  logs: '/opentelemetry.proto.collector.logs.v1.LogsService/Export',
};

/** The signal a method path serves, or undefined for any other path. */
export function signalOfPath(path: string): Signal | undefined {
  for (const signal of Object.keys(OTLP_GRPC_PATHS) as Signal[]) if (OTLP_GRPC_PATHS[signal] === path) return signal;
  return undefined;
}

export type ExportMethod = MethodDefinition<Buffer, Uint8Array>;
export type OtlpServiceDefinition = ServiceDefinition<{ Export: ExportMethod }>;

const asBuffer = (bytes: Uint8Array): Buffer => (Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
const identity = (bytes: Buffer): Buffer => bytes;

export function otlpServiceDefinition(signal: Signal): OtlpServiceDefinition {
  return {
    Export: {
      path: OTLP_GRPC_PATHS[signal],
      requestStream: false,
      responseStream: false,
      requestSerialize: identity,
      requestDeserialize: identity,
      responseSerialize: asBuffer,
      responseDeserialize: identity,
      originalName: 'export',
    },
  };
}
