/** OTLP: the protocol model (generated from the .proto files in ./proto) and its codecs. */
export { opentelemetry } from './generated/otlp.js';
