/** The exporter's options, their defaults, and the checks that name a bad field. */
import { OTLP_HTTP_PATHS } from '../../telemetry/index.ts';
import type { Signal } from '../../telemetry/index.ts';

export interface ExporterOptions {
  /** The agent's buffer folder; created if missing. */
  dir: string;
  /** Gateway base URL, e.g. http://127.0.0.1:4318 (the /v1/<signal> path is added). */
  endpoint: string;
  /** Sent as `Authorization: Bearer <apiKey>`. */
  apiKey: string;
  /** Disk the buffer may take; the oldest data is dropped beyond it. Default 256 MiB, at least 1 MiB. */
  capBytes?: number;
  /**
   * Uncompressed size a request packs batches up to. Default 1 MiB (about what the OpenTelemetry
   * Collector's default batches come to); one batch is never split. Each request is read,
   * joined and gzipped in memory, so this bounds what sending holds beyond the buffer files.
   */
  maxRequestBytes?: number;
  /** Per request. Default 10 s. */
  timeoutMs?: number;
  /** First retry delay ceiling; doubles per attempt (full jitter). Default 500 ms. */
  backoffBaseMs?: number;
  /** Longest wait between attempts, Retry-After included. Default 30 s. */
  backoffMaxMs?: number;
  /** Problems worth a human's attention (the agent logs them as warnings). */
  log?: (line: string) => void;
  /** Jitter source in [0, 1); Math.random by default. */
  random?: () => number;
}

export interface ResolvedOptions {
  dir: string;
  urls: Record<Signal, string>;
  apiKey: string;
  capBytes: number;
  /** Segment size of the buffer topic: retention deletes whole segments. */
  segmentBytes: number;
  maxRequestBytes: number;
  timeoutMs: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  log: (line: string) => void;
  random: () => number;
}

const MIB = 1024 * 1024;
export const DEFAULT_CAP_BYTES = 256 * MIB;
const DEFAULT_MAX_REQUEST_BYTES = MIB;
/** A sixteenth of the cap keeps the overshoot while a segment fills small; below 1 MiB files just multiply. */
const SEGMENTS_PER_CAP = 16;
const MIN_SEGMENT_BYTES = MIB;

export function resolveOptions(options: ExporterOptions): ResolvedOptions {
  if (options === null || typeof options !== 'object') throw new TypeError('exporter options must be an object');
  const { dir, endpoint, apiKey } = options;
  if (typeof dir !== 'string' || dir === '') throw new TypeError('exporter dir: a folder path is required');
  if (typeof apiKey !== 'string' || apiKey === '') throw new TypeError('exporter apiKey: an API key is required (sent as Authorization: Bearer <key>)');
  let base: URL;
  try {
    base = new URL(endpoint);
  } catch {
    throw new TypeError(`exporter endpoint: not a URL: ${JSON.stringify(endpoint)}`);
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') {
    throw new TypeError(`exporter endpoint: expected an http:// or https:// URL, got ${JSON.stringify(endpoint)}`);
  }
  const root = base.href.replace(/\/+$/, '');
  const capBytes = integerAtLeast('capBytes', options.capBytes ?? DEFAULT_CAP_BYTES, MIB);
  const backoffBaseMs = positive('backoffBaseMs', options.backoffBaseMs ?? 500);
  const backoffMaxMs = positive('backoffMaxMs', options.backoffMaxMs ?? 30_000);
  if (backoffMaxMs < backoffBaseMs) throw new RangeError(`exporter backoffMaxMs (${backoffMaxMs}) must not be below backoffBaseMs (${backoffBaseMs})`);
  if (options.log !== undefined && typeof options.log !== 'function') throw new TypeError('exporter log must be a function');
  if (options.random !== undefined && typeof options.random !== 'function') throw new TypeError('exporter random must be a function');
  return {
    dir,
    urls: { traces: root + OTLP_HTTP_PATHS.traces, metrics: root + OTLP_HTTP_PATHS.metrics, logs: root + OTLP_HTTP_PATHS.logs },
    apiKey,
    capBytes,
    segmentBytes: Math.max(MIN_SEGMENT_BYTES, Math.floor(capBytes / SEGMENTS_PER_CAP)),
    maxRequestBytes: integerAtLeast('maxRequestBytes', options.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES, 1),
    timeoutMs: positive('timeoutMs', options.timeoutMs ?? 10_000),
    backoffBaseMs,
    backoffMaxMs,
    log: options.log ?? (() => {}),
    random: options.random ?? Math.random,
  };
}

function positive(name: string, v: number): number {
  if (typeof v !== 'number' || !(Number.isFinite(v) && v > 0)) throw new RangeError(`exporter ${name} must be a positive number, got ${v}`);
  return v;
}

function integerAtLeast(name: string, v: number, min: number): number {
  if (typeof v !== 'number' || !(Number.isSafeInteger(v) && v >= min)) throw new RangeError(`exporter ${name} must be a whole number >= ${min}, got ${v}`);
  return v;
}
