/** The host-metrics receiver's options, their defaults and their validation. */
import { hostname } from 'node:os';
import type { KeyValue, opentelemetry } from '../../otlp/index.ts';

export type Metric = opentelemetry.proto.metrics.v1.Metric.$Properties;

export interface HostMetricsOptions {
  /** How often to scrape; default 10 000 ms. */
  intervalMs?: number;
  /** Where procfs is mounted; default '/proc' (an agent in a container may see the host's at '/host/proc'). */
  procRoot?: string;
  /** Where sysfs is mounted; default '/sys' (cgroup v2 at <sysRoot>/fs/cgroup, DMI at <sysRoot>/class/dmi/id). */
  sysRoot?: string;
  /** Where machine-id and os-release live; default '/etc'. */
  etcRoot?: string;
  /** host.name; default os.hostname(). */
  hostName?: string;
  /** Added to the resource; a key that detection also found is replaced by this value. */
  extraResourceAttributes?: KeyValue[];
  /** Millisecond clock; default Date.now. */
  now?: () => number;
  /** Extra metrics the agent adds about itself each interval (its pipeline counters); returns OTLP Metric objects. */
  selfMetrics?: () => Metric[];
  /** Where a metric set that cannot be read is reported (once, until it reads again). */
  log?: (line: string) => void;
}

export interface ResolvedHostMetricsOptions {
  intervalMs: number;
  procRoot: string;
  sysRoot: string;
  etcRoot: string;
  hostName: string;
  extraResourceAttributes: KeyValue[];
  now: () => number;
  selfMetrics: (() => Metric[]) | undefined;
  log: (line: string) => void;
}

export const DEFAULT_INTERVAL_MS = 10_000;

function fail(field: string, problem: string, got: unknown): never {
  throw new TypeError(`hostmetrics: ${field} ${problem}, got ${JSON.stringify(got) ?? String(got)}`);
}

function path(field: string, value: unknown, fallback: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || value === '') fail(field, 'must be a non-empty path', value);
  return value;
}

function fn<T>(field: string, value: T | undefined): T | undefined {
  if (value !== undefined && typeof value !== 'function') fail(field, 'must be a function', typeof value);
  return value;
}

export function resolveHostMetricsOptions(options: HostMetricsOptions = {}): ResolvedHostMetricsOptions {
  const { intervalMs = DEFAULT_INTERVAL_MS, hostName, extraResourceAttributes = [] } = options;
  // Below 1 s the scrape itself (a dozen small files and a statfs per mount) becomes a visible cost.
  if (typeof intervalMs !== 'number' || !Number.isFinite(intervalMs) || intervalMs < 1000) {
    fail('intervalMs', 'must be a number of milliseconds of at least 1000', intervalMs);
  }
  if (hostName !== undefined && (typeof hostName !== 'string' || hostName === '')) fail('hostName', 'must be a non-empty string', hostName);
  if (!Array.isArray(extraResourceAttributes)) fail('extraResourceAttributes', 'must be an array of KeyValue', extraResourceAttributes);
  extraResourceAttributes.forEach((kv, i) => {
    if (!kv || typeof kv.key !== 'string' || kv.key === '') fail(`extraResourceAttributes[${i}].key`, 'must be a non-empty string', kv?.key);
  });
  return {
    intervalMs,
    procRoot: path('procRoot', options.procRoot, '/proc'),
    sysRoot: path('sysRoot', options.sysRoot, '/sys'),
    etcRoot: path('etcRoot', options.etcRoot, '/etc'),
    hostName: hostName ?? hostname(),
    extraResourceAttributes,
    now: fn('now', options.now) ?? Date.now,
    selfMetrics: fn('selfMetrics', options.selfMetrics),
    log: fn('log', options.log) ?? (() => {}),
  };
}
