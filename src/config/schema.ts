import { z } from 'zod';

const port = z.number().int().min(0).max(65535);
const days = z.number().int().min(1).max(36500);
const mib = 1024 * 1024;

/** Per-item checks of the gateway; an item past one is rejected alone (OTLP partial success) or truncated. */
const limitsSchema = z
  .object({
    /** Attributes (key/value pairs) on one span, event, link, log record, data point or resource. */
    maxAttributesPerItem: z.number().int().min(1).max(100_000).default(128),
    /** A longer string attribute value is cut to this many bytes and marked with a trailing '...[truncated]'. */
    maxAttributeValueBytes: z.number().int().min(16).max(16 * mib).default(16 * 1024),
    /** Nesting of AnyValue (arrays and maps in arrays and maps). */
    maxAttributeDepth: z.number().int().min(1).max(32).default(16),
    maxEventsPerSpan: z.number().int().min(0).max(100_000).default(256),
    maxLinksPerSpan: z.number().int().min(0).max(100_000).default(128),
    /** Items timestamped further in the past are rejected. */
    maxPastHours: z.number().min(1).max(24 * 365 * 10).default(24 * 7),
    /** Items timestamped further in the future are rejected (clock skew beyond this is a bug). */
    maxFutureMinutes: z.number().min(1).max(24 * 60 * 365).default(60),
  })
  .strict();

const rate = z
  .object({
    /** Spans + log records + data points per second; 0 = unlimited. */
    eventsPerSecond: z.number().min(0).default(0),
    /** Request bytes (decompressed) per second; 0 = unlimited. */
    bytesPerSecond: z.number().min(0).default(0),
    /** Seconds of the rate a tenant may send at once above the steady rate. */
    burstSeconds: z.number().min(0.1).max(3600).default(2),
  })
  .strict();

/** Ingest rate limits per tenant, across all gateways (shared through Redis when redis.url is set). */
const rateLimitsSchema = z
  .object({
    default: rate.default(rate.parse({})),
    tenants: z.record(z.string().regex(/^[a-zA-Z0-9_.-]{1,64}$/, 'tenant ids: letters, digits, _ . - (1 to 64)'), rate).default({}),
  })
  .strict();

/** `ollystack agent`: what it collects, how it reduces, where it sends. */
const agentSchema = z
  .object({
    /** Gateway base URL the agent sends to (OTLP/HTTP protobuf, gzip). */
    endpoint: z
      .string()
      .regex(/^https?:\/\/\S+$/, 'expected http(s)://host:port')
      .default('http://127.0.0.1:4318'),
    /** The agent's own folder (disk buffer, checkpoints); default <dataDir>/agent. */
    dataDir: z.string().min(1).optional(),
    /** Largest disk buffer; past it the oldest data is dropped (and counted). */
    bufferMaxBytes: z.number().int().min(mib).max(1024 * 1024 * mib).default(256 * mib),
    /** Heap limit the agent sets on itself (its whole process stays under about twice this). */
    maxHeapMb: z.number().int().min(16).max(4096).default(48),
    /** Local status endpoint for `ollystack agent status` (localhost only; 0 = off). */
    statusPort: port.default(13133),
    hostMetrics: z
      .object({ enabled: z.boolean().default(true), intervalSeconds: z.number().min(1).max(3600).default(10) })
      .strict()
      .default({ enabled: true, intervalSeconds: 10 }),
    /** Local OTLP receiver for applications on the host; a port of 0 turns that transport off. */
    otlp: z
      .object({ host: z.string().default('127.0.0.1'), httpPort: port.default(4318), grpcPort: port.default(4317) })
      .strict()
      .default({ host: '127.0.0.1', httpPort: 4318, grpcPort: 4317 }),
    logs: z
      .object({
        /** Globs of files to tail, e.g. /var/log/app/*.log; empty = no file tailing. */
        include: z.array(z.string().min(1)).default([]),
        exclude: z.array(z.string().min(1)).default([]),
        /** Files present at the very first start: read from their end (default) or beginning. */
        startAt: z.enum(['end', 'beginning']).default('end'),
        /** Regex matching the first line of a record (multiline: stack traces); unset = one line, one record. */
        multilineStart: z
          .string()
          .refine((s) => {
            try {
              new RegExp(s);
              return true;
            } catch {
              return false;
            }
          }, 'not a valid regular expression')
          .optional(),
        maxLineBytes: z.number().int().min(256).max(16 * mib).default(64 * 1024),
      })
      .strict()
      .default({ include: [], exclude: [], startAt: 'end', maxLineBytes: 64 * 1024 }),
    aggregation: z
      .object({
        windowSeconds: z.number().min(1).max(3600).default(60),
        maxSeriesPerMetric: z.number().int().min(1).max(1_000_000).default(2000),
        maxValuesPerAttribute: z.number().int().min(1).max(1_000_000).default(500),
      })
      .strict()
      .default({ windowSeconds: 60, maxSeriesPerMetric: 2000, maxValuesPerAttribute: 500 }),
    sampling: z
      .object({
        /** Traces per second kept among those with no error and no slow span. */
        targetTracesPerSecond: z.number().min(0.01).max(1_000_000).default(10),
        /** A span longer than this keeps its whole trace. */
        slowThresholdMs: z.number().min(1).max(3_600_000).default(1000),
        /** How long a trace's spans are held before it is decided. */
        decisionWaitSeconds: z.number().min(0.1).max(300).default(5),
        /** Spans held awaiting a decision; past it the oldest traces are decided early (memory bound). */
        maxBufferedSpans: z.number().int().min(100).max(10_000_000).default(10_000),
      })
      .strict()
      .default({ targetTracesPerSecond: 10, slowThresholdMs: 1000, decisionWaitSeconds: 5, maxBufferedSpans: 10_000 }),
  })
  .strict();

/**
 * The whole configuration. Every key has a default that works on one machine with no file,
 * so `ollystack up` runs with nothing configured.
 */
export const configSchema = z
  .object({
    /** Where the embedded bus, chDB data and generated keys live. */
    dataDir: z.string().min(1).default('./data'),
    /** API key of the default tenant; generated once and kept in the data folder when unset. */
    apiKey: z.string().min(16, 'must be at least 16 characters').optional(),
    /** Extra tenants and their API keys (the default tenant is `default`). */
    tenants: z
      .array(
        z
          .object({
            id: z.string().regex(/^[a-zA-Z0-9_.-]{1,64}$/, 'letters, digits, _ . - (1 to 64)'),
            apiKeys: z.array(z.string().min(16, 'must be at least 16 characters')).min(1),
          })
          .strict(),
      )
      .default([]),
    log: z.object({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info') }).strict().default({ level: 'info' }),
    gateway: z
      .object({
        host: z.string().default('0.0.0.0'),
        httpPort: port.default(4318),
        grpcPort: port.default(4317),
        /** Largest request body accepted, after decompression. */
        maxRequestBytes: z.number().int().min(1024).max(1024 * mib).default(32 * mib),
        /** Request bytes being processed at once; past it the gateway answers 503 / UNAVAILABLE at once. */
        maxInflightBytes: z.number().int().min(mib).max(64 * 1024 * mib).default(256 * mib),
        /** Browser SDKs: origins allowed to send OTLP/HTTP (CORS); empty = CORS off, '*' = any. */
        corsAllowedOrigins: z.array(z.string().min(1)).default([]),
        limits: limitsSchema.default(limitsSchema.parse({})),
        rateLimits: rateLimitsSchema.default(rateLimitsSchema.parse({})),
      })
      .strict()
      .default(() => ({
        host: '0.0.0.0',
        httpPort: 4318,
        grpcPort: 4317,
        maxRequestBytes: 32 * mib,
        maxInflightBytes: 256 * mib,
        corsAllowedOrigins: [],
        limits: limitsSchema.parse({}),
        rateLimits: rateLimitsSchema.parse({}),
      })),
    api: z
      .object({ host: z.string().default('0.0.0.0'), port: port.default(8080) })
      .strict()
      .default({ host: '0.0.0.0', port: 8080 }),
    ops: z
      .object({
        host: z.string().default('0.0.0.0'),
        /** Self-metrics and health checks of a single-component process (gateway, storage, metering). */
        port: port.default(9464),
      })
      .strict()
      .default({ host: '0.0.0.0', port: 9464 }),
    bus: z
      .object({
        /**
         * `embedded` (the durable log in the data folder) or `kafka://host:port[,host:port...]`.
         */
        url: z
          .string()
          .regex(/^(embedded|kafka:\/\/[^\s/,]+(,[^\s/,]+)*\/?)$/, "expected 'embedded' or kafka://host:port[,host:port...]")
          .default('embedded'),
        /** Partitions per topic: the unit of ordering and of consumer parallelism. Default 1 embedded (one consumer per group there), 32 on Kafka. */
        partitions: z.number().int().min(1).max(1024).optional(),
        /** Kafka topic replication factor; capped at the broker count, with a warning. */
        replicationFactor: z.number().int().min(1).max(16).default(3),
        /** Kafka batch compression. */
        compression: z.enum(['lz4', 'zstd', 'none']).default('lz4'),
      })
      .strict()
      .default({ url: 'embedded', replicationFactor: 3, compression: 'lz4' }),
    redis: z
      .object({
        /** redis://[user:password@]host:port[/db]: shared state (API keys) in distributed mode; unset = in process. */
        url: z
          .string()
          .regex(/^rediss?:\/\/\S+$/, 'expected redis://host:port or rediss://host:port')
          .optional(),
        /** Prefix of every key OllyStack writes, so several installations can share one Redis. */
        keyPrefix: z.string().min(1).max(64).default('ollystack:'),
      })
      .strict()
      .default({ keyPrefix: 'ollystack:' }),
    store: z
      .object({
        /** chdb://<folder> (in process; default: <dataDir>/chdb) or http(s)://user:pass@host:8123/db. */
        url: z.string().optional(),
        /** ClickHouse cluster name: tables become ReplicatedMergeTree ON CLUSTER behind Distributed tables. */
        cluster: z
          .string()
          .regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, 'letters, digits and _ (a ClickHouse identifier)')
          .optional(),
        retentionDays: z
          .object({ traces: days.default(30), logs: days.default(30), metrics: days.default(90) })
          .strict()
          .default({ traces: 30, logs: 30, metrics: 90 }),
      })
      .strict()
      .default({ retentionDays: { traces: 30, logs: 30, metrics: 90 } }),
    storage: z
      .object({
        batchMaxRows: z.number().int().min(1).max(10_000_000).default(200_000),
        batchMaxMs: z.number().int().min(50).max(60_000).default(2_000),
      })
      .strict()
      .default({ batchMaxRows: 200_000, batchMaxMs: 2_000 }),
    agent: agentSchema.default(() => agentSchema.parse({})),
  })
  .strict();

export type Config = z.infer<typeof configSchema>;
