/**
 * The gateway's codec surface for other components (the agent's local OTLP receivers):
 * OTLP/HTTP bodies to payloads, and the answers and refusals every OTLP transport sends. A
 * second entry beside index.ts, because index.ts also exports the Fastify and grpc-js
 * receivers, and any import of it bundles them (15 MB or more of the agent's RSS).
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
