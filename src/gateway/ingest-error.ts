import { GRPC_CODE } from './status-body.ts';

/**
 * Why the gateway refused a request, independent of the transport: the OTLP/HTTP receiver
 * turns it into a status code (and Retry-After), the gRPC receiver into a gRPC status (and
 * RetryInfo). One table, so both transports answer the same refusal the same way.
 */
export type IngestErrorKind = 'invalid' | 'unauthenticated' | 'too-large' | 'unsupported' | 'throttled' | 'unavailable';

const HTTP_STATUS: Record<IngestErrorKind, number> = {
  invalid: 400,
  unauthenticated: 401,
  'too-large': 413,
  unsupported: 415,
  throttled: 429,
  unavailable: 503,
};

const GRPC_STATUS: Record<IngestErrorKind, number> = {
  invalid: GRPC_CODE.INVALID_ARGUMENT,
  unauthenticated: GRPC_CODE.UNAUTHENTICATED,
  // gRPC has no "too large": OTLP/gRPC clients treat INVALID_ARGUMENT as not retryable, which is right.
  'too-large': GRPC_CODE.INVALID_ARGUMENT,
  unsupported: GRPC_CODE.INVALID_ARGUMENT,
  throttled: GRPC_CODE.RESOURCE_EXHAUSTED,
  unavailable: GRPC_CODE.UNAVAILABLE,
};

export class IngestError extends Error {
  readonly kind: IngestErrorKind;
  /** For throttled and unavailable: when the client may try again. */
  readonly retryAfterSeconds: number | undefined;

  constructor(kind: IngestErrorKind, message: string, retryAfterSeconds?: number) {
    super(message);
    this.name = 'IngestError';
    this.kind = kind;
    this.retryAfterSeconds = retryAfterSeconds;
  }

  get httpStatus(): number {
    return HTTP_STATUS[this.kind];
  }

  get grpcCode(): number {
    return GRPC_STATUS[this.kind];
  }
}
