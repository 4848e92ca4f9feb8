/** The ingestion gateway: OTLP receivers that validate, authenticate and route to the bus. */
export { createHttpReceiver, type HttpReceiverOptions } from './http-receiver.ts';
export { encodeStatusProto, GRPC_CODE } from './status-body.ts';
export { createIngestPipeline, type IngestPipeline, type IngestResult, type PipelineOptions } from './pipeline.ts';
export { IngestError, type IngestErrorKind } from './ingest-error.ts';
export { validateRequest, TRUNCATION_MARKER, type ValidationLimits, type ValidationResult } from './validate/index.ts';
export { exportResponseJson, exportResponseProto } from './export-response.ts';
export {
  bodyEncoding,
  classify,
  JSON_TYPE,
  PROTOBUF_TYPES,
  requestPayload,
  unsupportedContentType,
  type BodyEncoding,
} from './http-payload.ts';
export { createGrpcReceiver, type GrpcReceiver, type GrpcReceiverOptions } from './grpc-receiver.ts';
export { OTLP_GRPC_PATHS, otlpServiceDefinition, type OtlpServiceDefinition } from './grpc-services.ts';
export {
  createAdmission,
  createInflightBudget,
  inflightRefusal,
  OVERLOAD_RETRY_AFTER_SECONDS,
  type Admission,
  type AdmissionOptions,
  type InflightBudget,
  type RateLimitsConfig,
} from './admission/index.ts';
