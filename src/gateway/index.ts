/** The ingestion gateway: OTLP receivers that validate, authenticate and route to the bus. */
// What other components may use without the servers: bodies to payloads, answers, refusals.
export * from './codec.ts';
export { createHttpReceiver, type HttpReceiverOptions } from './http-receiver.ts';
export { createIngestPipeline, type PipelineOptions } from './pipeline.ts';
export { validateRequest, TRUNCATION_MARKER, type ValidationLimits, type ValidationResult } from './validate/index.ts';
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
