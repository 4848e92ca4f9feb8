/**
 * The ClickHouse schema, as versioned migrations applied in order at start.
 *
 * Tables follow the OpenTelemetry Collector's ClickHouse exporter (otel_traces, otel_logs,
 * otel_metrics_*), so its users and its dashboards feel at home, with three changes:
 * - TenantId leads every sort key: each query is scoped to a tenant and reads only its rows;
 * - every table carries a TTL from configuration;
 * - the insert deduplication window is on (non-replicated on one node, replicated on a
 *   cluster), so a batch re-inserted with the same deduplication token after a crash is
 *   dropped (at-least-once in, exactly-once stored).
 *
 * Tables are specs (cluster-ddl.ts renders them for one node or for a cluster), each with the
 * sharding key it gets on a cluster. Never edit a migration that has shipped: add a new one
 * (rendering a shipped one differently on one node counts as editing it).
 */
import { ledgerTableSpec } from './ledger.ts';
import { addColumnStatements, createTableStatements, dropIndexesStatement, modifyColumnsStatements, modifySettingsStatement, type AddedColumn, type RetypedColumn, type DdlTarget, type DedupWindowSetting, type TableSpec } from './cluster-ddl.ts';

export interface RetentionDays {
  traces: number;
  logs: number;
  metrics: number;
}

/** What migrate learned from the server, for statements that depend on its version. */
export interface ServerFacts {
  /** The MergeTree settings the server knows (system.merge_tree_settings). */
  mergeTreeSettings: ReadonlySet<string>;
}

export interface Migration {
  version: number;
  name: string;
  /** The DDL of this migration for the target (one node, or ON CLUSTER), in order. */
  statements: (retention: RetentionDays, target: DdlTarget, server: ServerFacts) => string[];
}

/** Blocks remembered per table for insert deduplication. */
export const DEDUP_WINDOW = 10000;

function tableSettings(dedupWindow: DedupWindowSetting): string {
  return `index_granularity = 8192, ${dedupWindow} = ${DEDUP_WINDOW}, ttl_only_drop_parts = 1`;
}

function days(n: number): number {
  if (!Number.isInteger(n) || n < 1 || n > 36500) throw new Error(`retention must be a whole number of days in 1..36500, got ${n}`);
  return n;
}

const METRIC_COMMON = `
  TenantId LowCardinality(String) CODEC(ZSTD(1)),
  ResourceAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
  ResourceSchemaUrl String CODEC(ZSTD(1)),
  ScopeName String CODEC(ZSTD(1)),
  ScopeVersion String CODEC(ZSTD(1)),
  ScopeAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
  ScopeDroppedAttrCount UInt32 CODEC(ZSTD(1)),
  ScopeSchemaUrl String CODEC(ZSTD(1)),
  ServiceName LowCardinality(String) CODEC(ZSTD(1)),
  MetricName LowCardinality(String) CODEC(ZSTD(1)),
  MetricDescription String CODEC(ZSTD(1)),
  MetricUnit String CODEC(ZSTD(1)),
  Attributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
  StartTimeUnix DateTime64(9) CODEC(Delta, ZSTD(1)),
  TimeUnix DateTime64(9) CODEC(Delta, ZSTD(1)),`;

const EXEMPLARS = `
  Exemplars Nested (
    FilteredAttributes Map(LowCardinality(String), String),
    TimeUnix DateTime64(9),
    Value Float64,
    SpanId String,
    TraceId String
  ) CODEC(ZSTD(1)),`;

/**
 * Sharding keys (used on a cluster only). Each is computed from the row's own columns, never
 * rand(), so a batch re-sent after a crash splits over the shards exactly as the first time and
 * each shard's deduplication token drops its repeat (see cluster-ddl.ts).
 */
const SHARDING = {
  /**
   * One trace on one shard: the trace view and the trace search's GROUP BY TraceId find every
   * span of a trace together, so shards can aggregate whole traces themselves; a tenant's
   * load still spreads over the shards trace by trace.
   */
  traces: 'cityHash64(TenantId, TraceId)',
  /**
   * Logs spread evenly. Not by TraceId like spans: many logs carry none, and hashing the empty
   * id would pile every such log of a tenant onto one shard. The nanosecond timestamp varies
   * from record to record, so even one busy service spreads over every shard.
   */
  logs: 'cityHash64(TenantId, ServiceName, Timestamp)',
  /**
   * One series on one shard: the hash reads only columns that are fixed within a series (the
   * API's series window is ServiceName, ResourceAttributes, ScopeName, Attributes), so a
   * series' points stay together in sort-key order (better compression, and per-shard
   * differences of cumulative points when queries push them down), while one busy metric
   * still spreads over the shards by its label sets. Keys and values are hashed as arrays,
   * in the order the SDK exported them (stable within a series).
   */
  metrics: 'cityHash64(TenantId, ServiceName, MetricName, mapKeys(Attributes), mapValues(Attributes))',
} as const;

function metricTable(name: string, columns: string, retention: number): TableSpec {
  return {
    name,
    body: `${METRIC_COMMON}${columns}
  INDEX idx_res_attr_key mapKeys(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
  INDEX idx_attr_key mapKeys(Attributes) TYPE bloom_filter(0.01) GRANULARITY 1`,
    engine: 'MergeTree',
    partitionBy: 'toDate(TimeUnix)',
    orderBy: '(TenantId, ServiceName, MetricName, Attributes, toUnixTimestamp64Nano(TimeUnix))',
    ttl: `toDateTime(TimeUnix) + toIntervalDay(${days(retention)})`,
    settings: tableSettings,
    placement: { kind: 'sharded', shardingKey: SHARDING.metrics },
  };
}

export const METRIC_TABLES = {
  gauge: 'otel_metrics_gauge',
  sum: 'otel_metrics_sum',
  histogram: 'otel_metrics_histogram',
  exponentialHistogram: 'otel_metrics_exponential_histogram',
  summary: 'otel_metrics_summary',
} as const;

export const TRACES_TABLE = 'otel_traces';
export const LOGS_TABLE = 'otel_logs';
export const MIGRATIONS_TABLE = 'ollystack_schema_migrations';

function tracesTable(retention: number): TableSpec {
  return {
    name: TRACES_TABLE,
    body: `
  TenantId LowCardinality(String) CODEC(ZSTD(1)),
  Timestamp DateTime64(9) CODEC(Delta, ZSTD(1)),
  TraceId String CODEC(ZSTD(1)),
  SpanId String CODEC(ZSTD(1)),
  ParentSpanId String CODEC(ZSTD(1)),
  TraceState String CODEC(ZSTD(1)),
  SpanName LowCardinality(String) CODEC(ZSTD(1)),
  SpanKind LowCardinality(String) CODEC(ZSTD(1)),
  ServiceName LowCardinality(String) CODEC(ZSTD(1)),
  ResourceAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
  ScopeName String CODEC(ZSTD(1)),
  ScopeVersion String CODEC(ZSTD(1)),
  SpanAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
  Duration UInt64 CODEC(ZSTD(1)),
  StatusCode LowCardinality(String) CODEC(ZSTD(1)),
  StatusMessage String CODEC(ZSTD(1)),
  Events Nested (
    Timestamp DateTime64(9),
    Name LowCardinality(String),
    Attributes Map(LowCardinality(String), String)
  ) CODEC(ZSTD(1)),
  Links Nested (
    TraceId String,
    SpanId String,
    TraceState String,
    Attributes Map(LowCardinality(String), String)
  ) CODEC(ZSTD(1)),
  INDEX idx_trace_id TraceId TYPE bloom_filter(0.001) GRANULARITY 1,
  INDEX idx_res_attr_key mapKeys(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
  INDEX idx_span_attr_key mapKeys(SpanAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
  INDEX idx_duration Duration TYPE minmax GRANULARITY 1`,
    engine: 'MergeTree',
    partitionBy: 'toDate(Timestamp)',
    orderBy: '(TenantId, ServiceName, SpanName, toDateTime(Timestamp))',
    ttl: `toDateTime(Timestamp) + toIntervalDay(${days(retention)})`,
    settings: tableSettings,
    placement: { kind: 'sharded', shardingKey: SHARDING.traces },
  };
}

function logsTable(retention: number): TableSpec {
  return {
    name: LOGS_TABLE,
    body: `
  TenantId LowCardinality(String) CODEC(ZSTD(1)),
  Timestamp DateTime64(9) CODEC(Delta, ZSTD(1)),
  TimestampTime DateTime DEFAULT toDateTime(Timestamp),
  TraceId String CODEC(ZSTD(1)),
  SpanId String CODEC(ZSTD(1)),
  TraceFlags UInt8,
  SeverityText LowCardinality(String) CODEC(ZSTD(1)),
  SeverityNumber UInt8,
  ServiceName LowCardinality(String) CODEC(ZSTD(1)),
  Body String CODEC(ZSTD(1)),
  EventName String CODEC(ZSTD(1)),
  ResourceSchemaUrl LowCardinality(String) CODEC(ZSTD(1)),
  ResourceAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
  ScopeSchemaUrl LowCardinality(String) CODEC(ZSTD(1)),
  ScopeName String CODEC(ZSTD(1)),
  ScopeVersion LowCardinality(String) CODEC(ZSTD(1)),
  ScopeAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
  LogAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
  INDEX idx_trace_id TraceId TYPE bloom_filter(0.001) GRANULARITY 1,
  INDEX idx_res_attr_key mapKeys(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
  INDEX idx_log_attr_key mapKeys(LogAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
  INDEX idx_body lower(Body) TYPE tokenbf_v1(32768, 3, 0) GRANULARITY 8`,
    engine: 'MergeTree',
    partitionBy: 'toDate(TimestampTime)',
    orderBy: '(TenantId, ServiceName, TimestampTime, Timestamp)',
    ttl: `TimestampTime + toIntervalDay(${days(retention)})`,
    settings: tableSettings,
    placement: { kind: 'sharded', shardingKey: SHARDING.logs },
  };
}

/**
 * MergeTree settings of the signal tables, for a write-heavy workload (migration 3). Each insert
 * (a storage consumer's batch) becomes a part, and background merges rewrite every row several
 * times as parts grow; on chDB that work took more CPU than the inserts themselves (perf: 58 %
 * of the engine's time in merge threads), and each part of the span table is 139 files in the
 * Wide format, whose creation and deletion showed up as ext4 inode allocation in the kernel.
 *   - min_rows_for_wide_part: a batch (50,000 rows by default) lands as a Compact part, a few
 *     files; merged parts past 400,000 rows become Wide, which queries read column by column.
 *   - merge_selector_base, min_parts_to_merge_at_once: merges take 20 parts at a time instead
 *     of about 5, so a row is rewritten about half as many times on its way to a large part.
 *     The cost: up to about 20 parts per size level in a partition, which queries open.
 * Measured end to end on the embedded stack (bench/run.ts, 2 cores, 200,000 spans/s offered for
 * 2 minutes): 138,000-157,000 spans/s stored on average, against 96,000 before. A server that does not
 * know a setting (the merge selector's two are recent ones) keeps its default.
 */
export const SIGNAL_TABLE_SETTINGS: ReadonlyArray<readonly [string, number]> = [
  ['min_rows_for_wide_part', 400_000],
  ['merge_selector_base', 20],
  ['min_parts_to_merge_at_once', 20],
];

/**
 * Every row of a signal table carries the id of the storage consumer's batch that wrote it, so
 * a batch retried after a crash can be counted and, when only a part of it landed, deleted and
 * written again (checked-insert.ts). Ids start with the second they were drawn in, so a
 * batch's rows sit in few granules of the minmax index. 0: written before the column existed.
 */
export const INGEST_BATCH_COLUMN: AddedColumn = {
  column: 'IngestBatch UInt64 DEFAULT 0 CODEC(Delta, ZSTD(1))',
  distributedColumn: 'IngestBatch UInt64 DEFAULT 0',
  index: 'idx_ingest_batch IngestBatch TYPE minmax GRANULARITY 1',
};

/**
 * What every row of a resource or scope repeats, stored as dictionaries (migration 5): resource
 * attribute values, scope names and versions. They were plain Strings, copied on every row;
 * as LowCardinality each part stores them once per dictionary and rows as small ids. Measured
 * on 20 parts of 50k SDK-like spans: merging them took 16 % less time, and the parts are 21 %
 * smaller. (Span and log attribute values stay Strings: URLs, statements and ids are not low
 * cardinality.)
 */
const LC_RESOURCE_SCOPE: Record<'resource' | 'scopeName' | 'scopeVersion', RetypedColumn> = {
  resource: { name: 'ResourceAttributes', type: 'Map(LowCardinality(String), LowCardinality(String))', codec: 'CODEC(ZSTD(1))' },
  scopeName: { name: 'ScopeName', type: 'LowCardinality(String)', codec: 'CODEC(ZSTD(1))' },
  scopeVersion: { name: 'ScopeVersion', type: 'LowCardinality(String)', codec: 'CODEC(ZSTD(1))' },
};

/** The tables the storage consumer writes. */
export const SIGNAL_TABLES: readonly string[] = [TRACES_TABLE, LOGS_TABLE, ...Object.values(METRIC_TABLES)];

/**
 * Bloom filters over the keys of attribute maps, which migration 1 made as the OpenTelemetry
 * exporter's tables have them, and migration 6 drops: no query reads them (the API filters on
 * no attribute yet), and they were the largest cost of writing a part. Inserting 10 parts of
 * 200k SDK-like spans took 34 % less time without the two on otel_traces, and merging them
 * 10 % less (median of 3), which at 200k spans/s end to end is about a tenth of the server's
 * CPU. Attribute filters will come with the index their queries need (keys with values).
 */
export const ATTRIBUTE_KEY_INDEXES: Readonly<Record<string, readonly string[]>> = {
  [TRACES_TABLE]: ['idx_res_attr_key', 'idx_span_attr_key'],
  [LOGS_TABLE]: ['idx_res_attr_key', 'idx_log_attr_key'],
  ...Object.fromEntries(Object.values(METRIC_TABLES).map((t) => [t, ['idx_res_attr_key', 'idx_attr_key']])),
};

export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'otel tables with tenant-leading sort keys',
    statements: (r, target) =>
      [
        tracesTable(r.traces),
        logsTable(r.logs),
        metricTable(METRIC_TABLES.gauge, `
  Value Float64 CODEC(ZSTD(1)),
  Flags UInt32 CODEC(ZSTD(1)),${EXEMPLARS}`, r.metrics),
        metricTable(METRIC_TABLES.sum, `
  Value Float64 CODEC(ZSTD(1)),
  Flags UInt32 CODEC(ZSTD(1)),${EXEMPLARS}
  AggregationTemporality Int32 CODEC(ZSTD(1)),
  IsMonotonic Bool CODEC(Delta, ZSTD(1)),`, r.metrics),
        metricTable(METRIC_TABLES.histogram, `
  Count UInt64 CODEC(Delta, ZSTD(1)),
  Sum Float64 CODEC(ZSTD(1)),
  BucketCounts Array(UInt64) CODEC(ZSTD(1)),
  ExplicitBounds Array(Float64) CODEC(ZSTD(1)),${EXEMPLARS}
  Flags UInt32 CODEC(ZSTD(1)),
  Min Float64 CODEC(ZSTD(1)),
  Max Float64 CODEC(ZSTD(1)),
  AggregationTemporality Int32 CODEC(ZSTD(1)),`, r.metrics),
        metricTable(METRIC_TABLES.exponentialHistogram, `
  Count UInt64 CODEC(Delta, ZSTD(1)),
  Sum Float64 CODEC(ZSTD(1)),
  Scale Int32 CODEC(ZSTD(1)),
  ZeroCount UInt64 CODEC(ZSTD(1)),
  ZeroThreshold Float64 CODEC(ZSTD(1)),
  PositiveOffset Int32 CODEC(ZSTD(1)),
  PositiveBucketCounts Array(UInt64) CODEC(ZSTD(1)),
  NegativeOffset Int32 CODEC(ZSTD(1)),
  NegativeBucketCounts Array(UInt64) CODEC(ZSTD(1)),${EXEMPLARS}
  Flags UInt32 CODEC(ZSTD(1)),
  Min Float64 CODEC(ZSTD(1)),
  Max Float64 CODEC(ZSTD(1)),
  AggregationTemporality Int32 CODEC(ZSTD(1)),`, r.metrics),
        metricTable(METRIC_TABLES.summary, `
  Count UInt64 CODEC(Delta, ZSTD(1)),
  Sum Float64 CODEC(ZSTD(1)),
  ValueAtQuantiles Nested(
    Quantile Float64,
    Value Float64
  ) CODEC(ZSTD(1)),
  Flags UInt32 CODEC(ZSTD(1)),`, r.metrics),
      ].flatMap((spec) => createTableStatements(spec, target)),
  },
  {
    version: 2,
    name: 'ingest ledger: offset ranges written, so replays skip what is stored',
    statements: (_r, target) => createTableStatements(ledgerTableSpec(), target),
  },
  {
    version: 3,
    name: 'signal tables: batches as compact parts, merges of 20 parts (less write amplification)',
    statements: (_r, target, server) => {
      const known = SIGNAL_TABLE_SETTINGS.filter(([name]) => server.mergeTreeSettings.has(name));
      return known.length === 0 ? [] : SIGNAL_TABLES.map((table) => modifySettingsStatement(table, known, target));
    },
  },
  {
    version: 4,
    name: 'signal tables: the id of the batch that wrote each row, so a retried batch is checked',
    statements: (_r, target) => SIGNAL_TABLES.flatMap((table) => addColumnStatements(table, INGEST_BATCH_COLUMN, target)),
  },
  {
    version: 5,
    name: 'resource attribute values, scope names and versions as LowCardinality (smaller parts, cheaper merges)',
    statements: (_r, target) =>
      SIGNAL_TABLES.flatMap((table) => {
        const { resource, scopeName, scopeVersion } = LC_RESOURCE_SCOPE;
        // otel_logs has had a LowCardinality ScopeVersion from the start.
        return modifyColumnsStatements(table, table === LOGS_TABLE ? [resource, scopeName] : [resource, scopeName, scopeVersion], target);
      }),
  },
  {
    version: 6,
    name: 'signal tables: no bloom filters over attribute keys (no query reads them; a third of an insert)',
    statements: (_r, target) => SIGNAL_TABLES.map((table) => dropIndexesStatement(table, ATTRIBUTE_KEY_INDEXES[table], target)),
  },
];
