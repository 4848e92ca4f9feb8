/**
 * The RetryInfo trailer as grpc-js Metadata, for the gateway's grpc-js receiver. The bytes are
 * built in grpc-status-body.ts, which has no grpc-js import so that the agent can share them.
 */
import { Metadata } from '@grpc/grpc-js';
import { encodeRetryStatus, STATUS_DETAILS_KEY } from './grpc-status-body.ts';

export { encodeRetryInfo, encodeRetryStatus, RETRY_INFO_TYPE_URL, STATUS_DETAILS_KEY } from './grpc-status-body.ts';

/** Trailers telling the client when to retry; grpc-js sends a `-bin` key base64-encoded. */
export function retryTrailers(code: number, message: string, retryAfterSeconds: number): Metadata {
  const metadata = new Metadata();
  metadata.set(STATUS_DETAILS_KEY, encodeRetryStatus(code, message, retryAfterSeconds));
  return metadata;
}
