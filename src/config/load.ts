import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { configSchema, type Config } from './schema.ts';

/** A configuration problem, with the dotted key it is about. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export interface LoadOptions {
  /** YAML file; when omitted, OLLYSTACK_CONFIG, else defaults only. */
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** Values set on the command line, applied last (dotted keys). */
  overrides?: Record<string, unknown>;
}

/**
 * Environment overrides: OLLYSTACK_<KEY> where KEY is the dotted key in upper snake case,
 * segments joined by `__`: gateway.httpPort is OLLYSTACK_GATEWAY__HTTP_PORT. Two short
 * names are kept for the commonest ones: OLLYSTACK_DATA_DIR and OLLYSTACK_API_KEY.
 */
export function envKeyFor(path: string[]): string {
  return 'OLLYSTACK_' + path.map((p) => p.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()).join('__');
}

const ENV_LEAVES: string[][] = [
  ['dataDir'],
  ['apiKey'],
  ['log', 'level'],
  ['gateway', 'host'],
  ['gateway', 'httpPort'],
  ['gateway', 'grpcPort'],
  ['gateway', 'maxRequestBytes'],
  ['gateway', 'maxInflightBytes'],
  ['gateway', 'limits', 'maxAttributesPerItem'],
  ['gateway', 'limits', 'maxAttributeValueBytes'],
  ['gateway', 'limits', 'maxAttributeDepth'],
  ['gateway', 'limits', 'maxEventsPerSpan'],
  ['gateway', 'limits', 'maxLinksPerSpan'],
  ['gateway', 'limits', 'maxPastHours'],
  ['gateway', 'limits', 'maxFutureMinutes'],
  ['gateway', 'rateLimits', 'default', 'eventsPerSecond'],
  ['gateway', 'rateLimits', 'default', 'bytesPerSecond'],
  ['gateway', 'rateLimits', 'default', 'burstSeconds'],
  ['api', 'host'],
  ['api', 'port'],
  ['ops', 'host'],
  ['ops', 'port'],
  ['bus', 'url'],
  ['bus', 'partitions'],
  ['bus', 'replicationFactor'],
  ['bus', 'compression'],
  ['redis', 'url'],
  ['redis', 'keyPrefix'],
  ['store', 'url'],
  ['store', 'cluster'],
  ['store', 'retentionDays', 'traces'],
  ['store', 'retentionDays', 'logs'],
  ['store', 'retentionDays', 'metrics'],
  ['storage', 'batchMaxRows'],
  ['storage', 'batchMaxMs'],
  ['agent', 'endpoint'],
  ['agent', 'dataDir'],
  ['agent', 'bufferMaxBytes'],
  ['agent', 'maxHeapMb'],
  ['agent', 'statusPort'],
  ['agent', 'hostMetrics', 'enabled'],
  ['agent', 'hostMetrics', 'intervalSeconds'],
  ['agent', 'otlp', 'host'],
  ['agent', 'otlp', 'httpPort'],
  ['agent', 'otlp', 'grpcPort'],
  ['agent', 'logs', 'startAt'],
  ['agent', 'logs', 'multilineStart'],
  ['agent', 'logs', 'maxLineBytes'],
  ['agent', 'aggregation', 'windowSeconds'],
  ['agent', 'aggregation', 'maxSeriesPerMetric'],
  ['agent', 'aggregation', 'maxValuesPerAttribute'],
  ['agent', 'sampling', 'targetTracesPerSecond'],
  ['agent', 'sampling', 'slowThresholdMs'],
  ['agent', 'sampling', 'decisionWaitSeconds'],
  ['agent', 'sampling', 'maxBufferedSpans'],
];

function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (next === undefined || next === null) node[key] = {};
    else if (typeof next !== 'object' || Array.isArray(next)) throw new ConfigError(`${path.join('.')}: ${key} is not a section`);
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1]] = value;
}

/** Environment values are strings; numbers and true/false are parsed so the schema can check them. */
function coerce(raw: string): unknown {
  if (raw === 'true' || raw === 'false') return raw === 'true';
  return /^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : raw;
}

function describeIssues(error: z.ZodError, source: string): string {
  return error.issues
    .map((issue) => {
      const key = issue.path.join('.') || '(root)';
      const message = issue.code === 'unrecognized_keys' ? `unknown key(s) ${issue.keys.map((k) => `'${k}'`).join(', ')}` : issue.message;
      return `${key}: ${message}`;
    })
    .map((line) => `  ${line}`)
    .join('\n')
    .replace(/^/, `invalid configuration (${source}):\n`);
}

export function loadConfig(options: LoadOptions = {}): Config {
  const env = options.env ?? process.env;
  const file = options.file ?? env.OLLYSTACK_CONFIG;
  let raw: Record<string, unknown> = {};
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new ConfigError(`cannot read configuration file ${file}: ${(err as Error).message}`);
    }
    let parsed: unknown;
    try {
      parsed = parseYaml(text);
    } catch (err) {
      throw new ConfigError(`configuration file ${file} is not valid YAML: ${(err as Error).message}`);
    }
    if (parsed !== null && parsed !== undefined && (typeof parsed !== 'object' || Array.isArray(parsed))) {
      throw new ConfigError(`configuration file ${file} must hold a mapping of keys`);
    }
    raw = (parsed as Record<string, unknown>) ?? {};
  }
  if (env.OLLYSTACK_DATA_DIR) setPath(raw, ['dataDir'], env.OLLYSTACK_DATA_DIR);
  if (env.OLLYSTACK_API_KEY) setPath(raw, ['apiKey'], env.OLLYSTACK_API_KEY);
  for (const leaf of ENV_LEAVES) {
    const value = env[envKeyFor(leaf)];
    if (value !== undefined && value !== '') setPath(raw, leaf, coerce(value));
  }
  for (const [key, value] of Object.entries(options.overrides ?? {})) {
    if (value !== undefined) setPath(raw, key.split('.'), value);
  }
  const result = configSchema.safeParse(raw);
  if (!result.success) throw new ConfigError(describeIssues(result.error, file ? `file ${file} and environment` : 'environment'));
  return result.data;
}
