/** The ingestion gateway: OTLP receivers that validate, authenticate and route to the bus. */
export { createHttpReceiver, type HttpReceiverOptions } from './http-receiver.ts';
export { encodeStatusProto, GRPC_CODE } from './status-body.ts';
