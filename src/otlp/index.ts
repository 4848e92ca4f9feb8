/** OTLP: the protocol model (generated from the .proto files in ./proto) and its codecs. */
export { opentelemetry } from './generated/otlp.js';
export { OtlpDecodeError } from './errors.ts';
export {
  DEFAULT_MAX_ANY_VALUE_DEPTH,
  decodeRequest,
  encodeRequest,
  type DecodeOptions,
  type Decoded,
  type ExportRequest,
  type ExportRequestBySignal,
  type ExportRequestPropertiesBySignal,
} from './codec.ts';
export { requestFromJson, requestToJson } from './json.ts';
export { UNKNOWN_SERVICE, splitByResource, type RoutedPart } from './route.ts';
export { SPAN_ID_BYTES, TRACE_ID_BYTES, bytesToHex, hexToBytes, idFromHex, isZeroId } from './ids.ts';
export { WireReader, wireError, WT_VARINT, WT_I64, WT_LEN, WT_START_GROUP, WT_END_GROUP, WT_I32 } from './wire.ts';
export { REQUEST_SPECS, type MessageSpec, type FieldSpec } from './schema.ts';
export { bool, dbl, hex, int, longToNumber, msToNanos, str, type KeyValue, type Nanos } from './values.ts';
export { OtlpHttpSender, errorText, parseRetryAfter, sleep, type SenderOptions, type SendResult } from './http-sender.ts';
export { countItems, metricPoints } from './count.ts';
