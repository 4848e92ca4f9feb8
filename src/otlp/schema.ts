/**
 * A compact description of the OTLP messages (field numbers, kinds, names, presence), the single
 * source the wire validator and the OTLP/JSON converter walk. It mirrors the .proto files in
 * ./proto; the generated protobufjs classes are the runtime objects both codecs build.
 */
import { opentelemetry } from './generated/otlp.js';
import { WT_I32, WT_I64, WT_LEN, WT_VARINT } from './wire.ts';
import type { Signal } from '../telemetry/signals.ts';

export type FieldKind =
  | 'string'
  | 'bytes'
  | 'bool'
  | 'int64'
  | 'uint64'
  | 'fixed64'
  | 'sfixed64'
  | 'uint32'
  | 'fixed32'
  | 'sint32'
  | 'double'
  | 'enum'
  | 'message';

export interface FieldSpec {
  readonly no: number;
  /** lowerCamelCase: the property of the generated class and the OTLP/JSON key. */
  readonly name: string;
  /** The .proto name, also accepted as a JSON key. */
  readonly snake: string;
  readonly kind: FieldKind;
  readonly repeated: boolean;
  /** Field of a oneof or a proto3 `optional`: present even when it holds the default value. */
  readonly presence: boolean;
  /** The oneof this field belongs to, if any (including proto3 optional's synthetic oneof). */
  readonly oneof: string | undefined;
  /** Trace/span ids are hex in OTLP/JSON: their byte length, else 0. */
  readonly hexIdBytes: number;
  readonly enumValues: ReadonlyMap<string, number> | undefined;
  /** Set after all messages are declared (the schema is recursive through AnyValue). */
  message: MessageSpec | undefined;
  /** The wire type of a single element. */
  readonly wireType: number;
  /** Repeated scalar numbers may also arrive packed (one length-delimited run). */
  readonly packable: boolean;
}

export interface MessageSpec {
  readonly name: string;
  readonly ctor: new () => object;
  /** AnyValue: nesting of these is what the depth limit counts. */
  readonly isAnyValue: boolean;
  fields: FieldSpec[];
  byNumber: (FieldSpec | undefined)[];
  byJsonKey: Map<string, FieldSpec>;
}

interface FieldOptions {
  repeated?: boolean;
  message?: MessageSpec;
  enumValues?: Record<string, unknown>;
  oneof?: string;
  optional?: boolean;
  hexIdBytes?: number;
}

const WIRE_TYPE: Record<FieldKind, number> = {
  string: WT_LEN,
  bytes: WT_LEN,
  message: WT_LEN,
  bool: WT_VARINT,
  int64: WT_VARINT,
  uint64: WT_VARINT,
  uint32: WT_VARINT,
  sint32: WT_VARINT,
  enum: WT_VARINT,
  fixed64: WT_I64,
  sfixed64: WT_I64,
  double: WT_I64,
  fixed32: WT_I32,
};

function camel(snake: string): string {
  return snake.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

function enumMap(values: Record<string, unknown>): Map<string, number> {
  const out = new Map<string, number>();
  // Generated enums also map numbers to names through their prototype; own keys are the names.
  for (const key of Object.keys(values)) if (typeof values[key] === 'number') out.set(key, values[key]);
  return out;
}

function field(no: number, snake: string, kind: FieldKind, o: FieldOptions = {}): FieldSpec {
  const repeated = o.repeated === true;
  return {
    no,
    name: camel(snake),
    snake,
    kind,
    repeated,
    presence: o.oneof !== undefined || o.optional === true,
    oneof: o.oneof ?? (o.optional === true ? `_${camel(snake)}` : undefined),
    hexIdBytes: o.hexIdBytes ?? 0,
    enumValues: o.enumValues === undefined ? undefined : enumMap(o.enumValues),
    message: o.message,
    wireType: WIRE_TYPE[kind],
    packable: repeated && kind !== 'string' && kind !== 'bytes' && kind !== 'message',
  };
}

function declare(name: string, ctor: new () => object): MessageSpec {
  return { name, ctor, isAnyValue: name === 'AnyValue', fields: [], byNumber: [], byJsonKey: new Map() };
}

function define(spec: MessageSpec, fields: FieldSpec[]): void {
  spec.fields = fields;
  for (const f of fields) {
    spec.byNumber[f.no] = f;
    spec.byJsonKey.set(f.name, f);
    spec.byJsonKey.set(f.snake, f);
  }
}

const common = opentelemetry.proto.common.v1;
const resource = opentelemetry.proto.resource.v1;
const trace = opentelemetry.proto.trace.v1;
const metrics = opentelemetry.proto.metrics.v1;
const logs = opentelemetry.proto.logs.v1;
const collector = opentelemetry.proto.collector;

export const AnyValue = declare('AnyValue', common.AnyValue);
const ArrayValue = declare('ArrayValue', common.ArrayValue);
const KeyValueList = declare('KeyValueList', common.KeyValueList);
export const KeyValue = declare('KeyValue', common.KeyValue);
const InstrumentationScope = declare('InstrumentationScope', common.InstrumentationScope);
const EntityRef = declare('EntityRef', common.EntityRef);
const Resource = declare('Resource', resource.Resource);

const ResourceSpans = declare('ResourceSpans', trace.ResourceSpans);
const ScopeSpans = declare('ScopeSpans', trace.ScopeSpans);
const Span = declare('Span', trace.Span);
const SpanEvent = declare('Span.Event', trace.Span.Event);
const SpanLink = declare('Span.Link', trace.Span.Link);
const Status = declare('Status', trace.Status);

const ResourceMetrics = declare('ResourceMetrics', metrics.ResourceMetrics);
const ScopeMetrics = declare('ScopeMetrics', metrics.ScopeMetrics);
const Metric = declare('Metric', metrics.Metric);
const Gauge = declare('Gauge', metrics.Gauge);
const Sum = declare('Sum', metrics.Sum);
const Histogram = declare('Histogram', metrics.Histogram);
const ExponentialHistogram = declare('ExponentialHistogram', metrics.ExponentialHistogram);
const Summary = declare('Summary', metrics.Summary);
const NumberDataPoint = declare('NumberDataPoint', metrics.NumberDataPoint);
const HistogramDataPoint = declare('HistogramDataPoint', metrics.HistogramDataPoint);
const ExpHistogramDataPoint = declare('ExponentialHistogramDataPoint', metrics.ExponentialHistogramDataPoint);
const Buckets = declare('ExponentialHistogramDataPoint.Buckets', metrics.ExponentialHistogramDataPoint.Buckets);
const SummaryDataPoint = declare('SummaryDataPoint', metrics.SummaryDataPoint);
const ValueAtQuantile = declare('SummaryDataPoint.ValueAtQuantile', metrics.SummaryDataPoint.ValueAtQuantile);
const Exemplar = declare('Exemplar', metrics.Exemplar);

const ResourceLogs = declare('ResourceLogs', logs.ResourceLogs);
const ScopeLogs = declare('ScopeLogs', logs.ScopeLogs);
const LogRecord = declare('LogRecord', logs.LogRecord);

const ExportTrace = declare('ExportTraceServiceRequest', collector.trace.v1.ExportTraceServiceRequest);
const ExportMetrics = declare('ExportMetricsServiceRequest', collector.metrics.v1.ExportMetricsServiceRequest);
const ExportLogs = declare('ExportLogsServiceRequest', collector.logs.v1.ExportLogsServiceRequest);

const rep = { repeated: true };
const attrs = (no: number, snake = 'attributes') => field(no, snake, 'message', { repeated: true, message: KeyValue });
const traceId = (no: number) => field(no, 'trace_id', 'bytes', { hexIdBytes: 16 });
const spanId = (no: number, snake = 'span_id') => field(no, snake, 'bytes', { hexIdBytes: 8 });
const anyValue = { oneof: 'value' };
const exemplarValue = { oneof: 'value' };
const temporality = field(2, 'aggregation_temporality', 'enum', { enumValues: metrics.AggregationTemporality });

define(AnyValue, [
  field(1, 'string_value', 'string', anyValue),
  field(2, 'bool_value', 'bool', anyValue),
  field(3, 'int_value', 'int64', anyValue),
  field(4, 'double_value', 'double', anyValue),
  field(5, 'array_value', 'message', { ...anyValue, message: ArrayValue }),
  field(6, 'kvlist_value', 'message', { ...anyValue, message: KeyValueList }),
  field(7, 'bytes_value', 'bytes', anyValue),
]);
define(ArrayValue, [field(1, 'values', 'message', { repeated: true, message: AnyValue })]);
define(KeyValueList, [field(1, 'values', 'message', { repeated: true, message: KeyValue })]);
define(KeyValue, [field(1, 'key', 'string'), field(2, 'value', 'message', { message: AnyValue })]);
define(InstrumentationScope, [
  field(1, 'name', 'string'),
  field(2, 'version', 'string'),
  attrs(3),
  field(4, 'dropped_attributes_count', 'uint32'),
]);
define(EntityRef, [
  field(1, 'schema_url', 'string'),
  field(2, 'type', 'string'),
  field(3, 'id_keys', 'string', rep),
  field(4, 'description_keys', 'string', rep),
]);
define(Resource, [
  attrs(1),
  field(2, 'dropped_attributes_count', 'uint32'),
  field(3, 'entity_refs', 'message', { repeated: true, message: EntityRef }),
]);

define(ResourceSpans, [
  field(1, 'resource', 'message', { message: Resource }),
  field(2, 'scope_spans', 'message', { repeated: true, message: ScopeSpans }),
  field(3, 'schema_url', 'string'),
]);
define(ScopeSpans, [
  field(1, 'scope', 'message', { message: InstrumentationScope }),
  field(2, 'spans', 'message', { repeated: true, message: Span }),
  field(3, 'schema_url', 'string'),
]);
define(Span, [
  traceId(1),
  spanId(2),
  field(3, 'trace_state', 'string'),
  spanId(4, 'parent_span_id'),
  field(5, 'name', 'string'),
  field(6, 'kind', 'enum', { enumValues: trace.Span.SpanKind }),
  field(7, 'start_time_unix_nano', 'fixed64'),
  field(8, 'end_time_unix_nano', 'fixed64'),
  attrs(9),
  field(10, 'dropped_attributes_count', 'uint32'),
  field(11, 'events', 'message', { repeated: true, message: SpanEvent }),
  field(12, 'dropped_events_count', 'uint32'),
  field(13, 'links', 'message', { repeated: true, message: SpanLink }),
  field(14, 'dropped_links_count', 'uint32'),
  field(15, 'status', 'message', { message: Status }),
  field(16, 'flags', 'fixed32'),
]);
define(SpanEvent, [
  field(1, 'time_unix_nano', 'fixed64'),
  field(2, 'name', 'string'),
  attrs(3),
  field(4, 'dropped_attributes_count', 'uint32'),
]);
define(SpanLink, [
  traceId(1),
  spanId(2),
  field(3, 'trace_state', 'string'),
  attrs(4),
  field(5, 'dropped_attributes_count', 'uint32'),
  field(6, 'flags', 'fixed32'),
]);
define(Status, [field(2, 'message', 'string'), field(3, 'code', 'enum', { enumValues: trace.Status.StatusCode })]);

define(ResourceMetrics, [
  field(1, 'resource', 'message', { message: Resource }),
  field(2, 'scope_metrics', 'message', { repeated: true, message: ScopeMetrics }),
  field(3, 'schema_url', 'string'),
]);
define(ScopeMetrics, [
  field(1, 'scope', 'message', { message: InstrumentationScope }),
  field(2, 'metrics', 'message', { repeated: true, message: Metric }),
  field(3, 'schema_url', 'string'),
]);
const data = (message: MessageSpec) => ({ oneof: 'data', message });
define(Metric, [
  field(1, 'name', 'string'),
  field(2, 'description', 'string'),
  field(3, 'unit', 'string'),
  field(5, 'gauge', 'message', data(Gauge)),
  field(7, 'sum', 'message', data(Sum)),
  field(9, 'histogram', 'message', data(Histogram)),
  field(10, 'exponential_histogram', 'message', data(ExponentialHistogram)),
  field(11, 'summary', 'message', data(Summary)),
  attrs(12, 'metadata'),
]);
const points = (message: MessageSpec) => field(1, 'data_points', 'message', { repeated: true, message });
define(Gauge, [points(NumberDataPoint)]);
define(Sum, [points(NumberDataPoint), temporality, field(3, 'is_monotonic', 'bool')]);
define(Histogram, [points(HistogramDataPoint), temporality]);
define(ExponentialHistogram, [points(ExpHistogramDataPoint), temporality]);
define(Summary, [points(SummaryDataPoint)]);
define(NumberDataPoint, [
  field(2, 'start_time_unix_nano', 'fixed64'),
  field(3, 'time_unix_nano', 'fixed64'),
  field(4, 'as_double', 'double', exemplarValue),
  field(5, 'exemplars', 'message', { repeated: true, message: Exemplar }),
  field(6, 'as_int', 'sfixed64', exemplarValue),
  attrs(7),
  field(8, 'flags', 'uint32'),
]);
define(HistogramDataPoint, [
  field(2, 'start_time_unix_nano', 'fixed64'),
  field(3, 'time_unix_nano', 'fixed64'),
  field(4, 'count', 'fixed64'),
  field(5, 'sum', 'double', { optional: true }),
  field(6, 'bucket_counts', 'fixed64', rep),
  field(7, 'explicit_bounds', 'double', rep),
  field(8, 'exemplars', 'message', { repeated: true, message: Exemplar }),
  attrs(9),
  field(10, 'flags', 'uint32'),
  field(11, 'min', 'double', { optional: true }),
  field(12, 'max', 'double', { optional: true }),
]);
define(ExpHistogramDataPoint, [
  attrs(1),
  field(2, 'start_time_unix_nano', 'fixed64'),
  field(3, 'time_unix_nano', 'fixed64'),
  field(4, 'count', 'fixed64'),
  field(5, 'sum', 'double', { optional: true }),
  field(6, 'scale', 'sint32'),
  field(7, 'zero_count', 'fixed64'),
  field(8, 'positive', 'message', { message: Buckets }),
  field(9, 'negative', 'message', { message: Buckets }),
  field(10, 'flags', 'uint32'),
  field(11, 'exemplars', 'message', { repeated: true, message: Exemplar }),
  field(12, 'min', 'double', { optional: true }),
  field(13, 'max', 'double', { optional: true }),
  field(14, 'zero_threshold', 'double'),
]);
define(Buckets, [field(1, 'offset', 'sint32'), field(2, 'bucket_counts', 'uint64', rep)]);
define(SummaryDataPoint, [
  field(2, 'start_time_unix_nano', 'fixed64'),
  field(3, 'time_unix_nano', 'fixed64'),
  field(4, 'count', 'fixed64'),
  field(5, 'sum', 'double'),
  field(6, 'quantile_values', 'message', { repeated: true, message: ValueAtQuantile }),
  attrs(7),
  field(8, 'flags', 'uint32'),
]);
define(ValueAtQuantile, [field(1, 'quantile', 'double'), field(2, 'value', 'double')]);
define(Exemplar, [
  field(2, 'time_unix_nano', 'fixed64'),
  field(3, 'as_double', 'double', exemplarValue),
  spanId(4),
  traceId(5),
  field(6, 'as_int', 'sfixed64', exemplarValue),
  attrs(7, 'filtered_attributes'),
]);

define(ResourceLogs, [
  field(1, 'resource', 'message', { message: Resource }),
  field(2, 'scope_logs', 'message', { repeated: true, message: ScopeLogs }),
  field(3, 'schema_url', 'string'),
]);
define(ScopeLogs, [
  field(1, 'scope', 'message', { message: InstrumentationScope }),
  field(2, 'log_records', 'message', { repeated: true, message: LogRecord }),
  field(3, 'schema_url', 'string'),
]);
define(LogRecord, [
  field(1, 'time_unix_nano', 'fixed64'),
  field(2, 'severity_number', 'enum', { enumValues: logs.SeverityNumber }),
  field(3, 'severity_text', 'string'),
  field(5, 'body', 'message', { message: AnyValue }),
  attrs(6),
  field(7, 'dropped_attributes_count', 'uint32'),
  field(8, 'flags', 'fixed32'),
  traceId(9),
  spanId(10),
  field(11, 'observed_time_unix_nano', 'fixed64'),
  field(12, 'event_name', 'string'),
]);

define(ExportTrace, [field(1, 'resource_spans', 'message', { repeated: true, message: ResourceSpans })]);
define(ExportMetrics, [field(1, 'resource_metrics', 'message', { repeated: true, message: ResourceMetrics })]);
define(ExportLogs, [field(1, 'resource_logs', 'message', { repeated: true, message: ResourceLogs })]);

/** The Export request message of each signal. */
export const REQUEST_SPECS: Record<Signal, MessageSpec> = {
  traces: ExportTrace,
  metrics: ExportMetrics,
  logs: ExportLogs,
};

/**
 * How deep the generated protobufjs code recurses for a request whose AnyValues nest `depth`
 * levels: the deepest path to an AnyValue (a metric exemplar's attribute) is 8 messages, and each
 * further AnyValue level costs at most 3 (AnyValue -> KeyValueList -> KeyValue -> AnyValue).
 */
export function protobufDepthFor(anyValueDepth: number): number {
  return 8 + 3 * anyValueDepth + 2;
}
