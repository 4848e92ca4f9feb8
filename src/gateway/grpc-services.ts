/**
 * The three OTLP collector services as grpc-js service definitions, written by hand so that
 * no message is decoded by protobufjs: a request arrives as the raw (decompressed) protobuf
 * Buffer, which the pipeline's wire scanner reads, and a response goes out as the bytes
 * exportResponseProto wrote. Clients (tests, the bench) use the same definitions: every
 * (de)serializer is the identity on bytes.
 */
import type { MethodDefinition, ServiceDefinition } from '@grpc/grpc-js';
import type { Signal } from '../telemetry/signals.ts';
import { OTLP_GRPC_EXPORT_PATHS } from './grpc-h2-wire.ts';

/** Full method paths, as OTLP/gRPC clients call them (defined with the server, which has no grpc-js). */
export { OTLP_GRPC_EXPORT_PATHS as OTLP_GRPC_PATHS } from './grpc-h2-wire.ts';

export type ExportMethod = MethodDefinition<Buffer, Uint8Array>;
export type OtlpServiceDefinition = ServiceDefinition<{ Export: ExportMethod }>;

const asBuffer = (bytes: Uint8Array): Buffer => (Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
const identity = (bytes: Buffer): Buffer => bytes;

export function otlpServiceDefinition(signal: Signal): OtlpServiceDefinition {
  return {
    Export: {
      path: OTLP_GRPC_EXPORT_PATHS[signal],
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
