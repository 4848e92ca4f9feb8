/**
 * For tests of the gRPC receivers: reads back the hand-written `grpc-status-details-bin`
 * trailer (a google.rpc.Status carrying a RetryInfo) with protobufjs reflection, so the
 * encoder is checked against an independent decoder.
 */
import assert from 'node:assert/strict';
import type { ServiceError } from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { STATUS_DETAILS_KEY } from './grpc-status-body.ts';

const rpc = protobuf.parse(`
  syntax = "proto3";
  package google.rpc;
  message Duration { int64 seconds = 1; int32 nanos = 2; }
  message Any { string type_url = 1; bytes value = 2; }
  message Status { int32 code = 1; string message = 2; repeated Any details = 3; }
  message RetryInfo { Duration retry_delay = 1; }
`).root;
const StatusType = rpc.lookupType('google.rpc.Status');
const RetryInfoType = rpc.lookupType('google.rpc.RetryInfo');

/** The status and retry delay a refused call's trailer carries; asserts there is exactly one. */
export function retryInfoOf(err: ServiceError): { code: number; message: string; typeUrl: string; seconds: number; nanos: number } {
  const bin = err.metadata.get(STATUS_DETAILS_KEY);
  assert.equal(bin.length, 1, 'one grpc-status-details-bin trailer');
  const st = StatusType.toObject(StatusType.decode(bin[0] as Buffer), { longs: Number }) as { code: number; message: string; details: Array<{ typeUrl: string; value: Uint8Array }> };
  assert.equal(st.details.length, 1);
  const info = RetryInfoType.toObject(RetryInfoType.decode(st.details[0].value), { longs: Number, defaults: true }) as { retryDelay: { seconds: number; nanos: number } };
  return { code: st.code, message: st.message, typeUrl: st.details[0].typeUrl, seconds: info.retryDelay.seconds, nanos: info.retryDelay.nanos };
}
