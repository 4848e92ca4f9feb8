/**
 * The gateway's codec surface for other components (the agent's local OTLP receivers):
 * OTLP bodies to payloads (decompressed within limits), and the answers and refusals every
 * OTLP transport sends, gRPC trailers included. A second entry beside index.ts, because
 * index.ts also exports the Fastify and grpc-js receivers, and any import of it bundles them
 * (15 MB or more of the agent's RSS).
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
