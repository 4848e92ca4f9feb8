/**
 * The gateway's codec surface for other components (the agent's local OTLP receivers):
 * OTLP bodies to payloads (decompressed within limits), the answers and refusals every OTLP
 * transport sends, gRPC trailers included, and the lean gRPC server the gateway and the agent
 * share. A second entry beside index.ts, because index.ts also exports the Fastify receiver and
 * grpc-js client definitions, and any import of it bundles them (15 MB or more of the agent's RSS).
 * Nothing imported here may reach Fastify or grpc-js.
 */
export {
  bodyEncoding,
  classify,
  JSON_TYPE,
  PROTOBUF_TYPES,
  requestPayload,
  unsupportedContentType,
  type BodyEncoding,
} from './http-payload.ts';
export { encodeStatusProto, GRPC_CODE } from './status-body.ts';
export { exportResponseJson, exportResponseProto } from './export-response.ts';
export { IngestError, type IngestErrorKind } from './ingest-error.ts';
export type { IngestPipeline, IngestResult } from './pipeline.ts';
export { decodeContentEncoding, PayloadTooLargeError, SUPPORTED_ENCODINGS } from './decompress.ts';
export { encodeRetryStatus, RETRY_INFO_TYPE_URL, STATUS_DETAILS_KEY } from './grpc-status-body.ts';
export { startGrpcH2Server, type GrpcCallReport, type GrpcH2Server, type GrpcH2ServerOptions } from './grpc-h2-server.ts';
export { GRPC_STATUS, OTLP_GRPC_EXPORT_PATHS, percentEncode } from './grpc-h2-wire.ts';
