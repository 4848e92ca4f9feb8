/** The codec's message specs (src/otlp/schema.ts) the wire decoders name in their errors and checks. */
import { REQUEST_SPECS, type MessageSpec } from '../../../otlp/index.ts';

function child(spec: MessageSpec, no: number): MessageSpec {
  const m = spec.byNumber[no]?.message;
  if (!m) throw new Error(`schema: ${spec.name} field ${no} is not a message`);
  return m;
}

export const EXPORT_TRACES = REQUEST_SPECS.traces;
export const RESOURCE_SPANS = child(EXPORT_TRACES, 1);
export const RESOURCE = child(RESOURCE_SPANS, 1);
export const SCOPE_SPANS = child(RESOURCE_SPANS, 2);
export const SCOPE = child(SCOPE_SPANS, 1);
export const KEY_VALUE = child(RESOURCE, 1);
export const ANY_VALUE = child(KEY_VALUE, 2);
export const ARRAY_VALUE = child(ANY_VALUE, 5);
export const KEY_VALUE_LIST = child(ANY_VALUE, 6);
export const SPAN = child(SCOPE_SPANS, 2);
export const SPAN_EVENT = child(SPAN, 11);
export const SPAN_LINK = child(SPAN, 13);
export const STATUS = child(SPAN, 15);

export const EXPORT_LOGS = REQUEST_SPECS.logs;
export const RESOURCE_LOGS = child(EXPORT_LOGS, 1);
export const SCOPE_LOGS = child(RESOURCE_LOGS, 2);
export const LOG_RECORD = child(SCOPE_LOGS, 2);

export const EXPORT_METRICS = REQUEST_SPECS.metrics;
export const RESOURCE_METRICS = child(EXPORT_METRICS, 1);
export const SCOPE_METRICS = child(RESOURCE_METRICS, 2);
export const METRIC = child(SCOPE_METRICS, 2);
export const GAUGE = child(METRIC, 5);
export const SUM = child(METRIC, 7);
export const HISTOGRAM = child(METRIC, 9);
export const EXP_HISTOGRAM = child(METRIC, 10);
export const SUMMARY = child(METRIC, 11);
export const NUMBER_POINT = child(GAUGE, 1);
export const HISTOGRAM_POINT = child(HISTOGRAM, 1);
export const EXP_HISTOGRAM_POINT = child(EXP_HISTOGRAM, 1);
export const BUCKETS = child(EXP_HISTOGRAM_POINT, 8);
export const SUMMARY_POINT = child(SUMMARY, 1);
export const VALUE_AT_QUANTILE = child(SUMMARY_POINT, 6);
export const EXEMPLAR = child(NUMBER_POINT, 5);

/** Tag value (field number << 3 | wire type) of a field, for switch statements. */
export const LEN = (no: number) => (no << 3) | 2;
export const VARINT = (no: number) => no << 3;
export const I64 = (no: number) => (no << 3) | 1;
export const I32 = (no: number) => (no << 3) | 5;
