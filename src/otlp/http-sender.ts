/**
 * Sends encoded OTLP export requests to a gateway over OTLP/HTTP: protobuf, gzip, bearer key.
 *
 * Retries what the OTLP specification calls retryable (429, 502, 503, 504, and requests that
 * never got an answer) with exponential backoff and jitter, waiting at least what Retry-After
 * asks. Every failure is reported through `log` with the status and the server's message.
 */
import { promisify } from 'node:util';
import { gzip as gzipCb } from 'node:zlib';
import protobuf from 'protobufjs/minimal.js';
import { opentelemetry } from './generated/otlp.js';
import { OTLP_HTTP_PATHS, type Signal } from '../telemetry/signals.ts';

const gzip = promisify(gzipCb);

export interface SenderOptions {
  /** Base URL of the gateway, e.g. http://127.0.0.1:4318 (the /v1/<signal> path is added). */
  endpoint: string;
  apiKey: string;
  log?: (line: string) => void;
  /** Retries after the first attempt. Default 3. */
  maxRetries?: number;
  /** Per-attempt timeout. Default 10 s. */
  timeoutMs?: number;
  /** First backoff; doubles per retry, with jitter. Default 500 ms. */
  backoffMs?: number;
  /** Longest wait between attempts, Retry-After included. Default 30 s. */
  maxBackoffMs?: number;
  /** Aborting stops retries and cancels the request in flight. */
  signal?: AbortSignal;
  /** Jitter source in [0, 1); Math.random by default. */
  random?: () => number;
}

export interface SendResult {
  ok: boolean;
  /** Last HTTP status, or null when no answer came (network error, timeout, abort). */
  status: number | null;
  attempts: number;
  /** True when the caller's signal stopped the send: not a failure of the gateway. */
  aborted: boolean;
  /** Items the gateway reported as rejected in a partial success. */
  rejected: number;
}

const RETRYABLE = new Set([429, 502, 503, 504]);
const MAX_BODY_IN_LOG = 500;

export class OtlpHttpSender {
  private readonly urls: Record<Signal, string>;
  private readonly apiKey: string;
  private readonly log: (line: string) => void;
  private readonly maxRetries: number;
  private readonly timeoutMs: number;
  private readonly backoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly signal: AbortSignal | undefined;
  private readonly random: () => number;

  constructor(options: SenderOptions) {
    let base: URL;
    try {
      base = new URL(options.endpoint);
    } catch {
      throw new TypeError(`endpoint: not a URL: '${options.endpoint}'`);
    }
    if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new TypeError(`endpoint: expected an http:// or https:// URL, got '${options.endpoint}'`);
    if (!options.apiKey) throw new TypeError('apiKey: an API key is required (sent as Authorization: Bearer <key>)');
    const root = base.href.replace(/\/+$/, '');
    this.urls = { traces: root + OTLP_HTTP_PATHS.traces, metrics: root + OTLP_HTTP_PATHS.metrics, logs: root + OTLP_HTTP_PATHS.logs };
    this.apiKey = options.apiKey;
    this.log = options.log ?? (() => {});
    this.maxRetries = nonNegative('maxRetries', options.maxRetries ?? 3);
    this.timeoutMs = positive('timeoutMs', options.timeoutMs ?? 10_000);
    this.backoffMs = positive('backoffMs', options.backoffMs ?? 500);
    this.maxBackoffMs = positive('maxBackoffMs', options.maxBackoffMs ?? 30_000);
    this.signal = options.signal;
    this.random = options.random ?? Math.random;
  }

  /** Compresses and posts one encoded Export<Signal>ServiceRequest, retrying as needed. */
  async send(signal: Signal, encoded: Uint8Array): Promise<SendResult> {
    const url = this.urls[signal];
    const body = await gzip(encoded);
    let attempts = 0;
    let status: number | null = null;
    for (;;) {
      if (this.signal?.aborted) return { ok: false, status, attempts, aborted: true, rejected: 0 };
      attempts++;
      let problem: string;
      let retryAfterMs: number | null = null;
      let retryable: boolean;
      try {
        const res = await fetch(url, {
          method: 'POST',
          headers: {
            'content-type': 'application/x-protobuf',
            'content-encoding': 'gzip',
            authorization: `Bearer ${this.apiKey}`,
          },
          body,
          signal: this.signal ? AbortSignal.any([this.signal, AbortSignal.timeout(this.timeoutMs)]) : AbortSignal.timeout(this.timeoutMs),
        });
        status = res.status;
        const payload = new Uint8Array(await res.arrayBuffer());
        if (res.ok) return { ok: true, status, attempts, aborted: false, rejected: this.partialSuccess(signal, payload) };
        problem = `HTTP ${res.status}${res.statusText ? ' ' + res.statusText : ''} from ${url}: ${errorText(res.headers.get('content-type'), payload)}`;
        retryable = RETRYABLE.has(res.status);
        retryAfterMs = parseRetryAfter(res.headers.get('retry-after'), Date.now());
      } catch (err) {
        if (this.signal?.aborted) return { ok: false, status, attempts, aborted: true, rejected: 0 };
        const e = err as Error & { cause?: { code?: string; message?: string } };
        const reason = e.name === 'TimeoutError' ? `no answer within ${this.timeoutMs} ms` : (e.cause?.code ?? e.cause?.message ?? e.message);
        problem = `request to ${url} failed: ${reason}`;
        retryable = true;
        status = null;
      }
      if (!retryable) {
        this.log(`${signal}: ${problem} (not retried)`);
        return { ok: false, status, attempts, aborted: false, rejected: 0 };
      }
      if (attempts > this.maxRetries) {
        this.log(`${signal}: giving up after ${attempts} attempts: ${problem}`);
        return { ok: false, status, attempts, aborted: false, rejected: 0 };
      }
      const backoff = Math.min(this.maxBackoffMs, this.backoffMs * 2 ** (attempts - 1) * (0.5 + this.random()));
      const waitMs = retryAfterMs === null ? backoff : Math.min(this.maxBackoffMs, Math.max(retryAfterMs, 0));
      this.log(`${signal}: ${problem}; retrying in ${(waitMs / 1000).toFixed(1)} s (attempt ${attempts + 1} of ${this.maxRetries + 1})`);
      if (!(await sleep(waitMs, this.signal))) return { ok: false, status, attempts, aborted: true, rejected: 0 };
    }
  }

  /** Reads a partial-success answer; a rejected count is reported, since the data is lost. */
  private partialSuccess(signal: Signal, payload: Uint8Array): number {
    if (payload.length === 0) return 0;
    try {
      let rejected = 0;
      let message = '';
      if (signal === 'traces') {
        const p = opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse.decode(payload).partialSuccess;
        rejected = Number(p?.rejectedSpans ?? 0);
        message = p?.errorMessage ?? '';
      } else if (signal === 'logs') {
        const p = opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse.decode(payload).partialSuccess;
        rejected = Number(p?.rejectedLogRecords ?? 0);
        message = p?.errorMessage ?? '';
      } else {
        const p = opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse.decode(payload).partialSuccess;
        rejected = Number(p?.rejectedDataPoints ?? 0);
        message = p?.errorMessage ?? '';
      }
      if (rejected > 0 || message) this.log(`${signal}: gateway accepted the request but rejected ${rejected} items${message ? ': ' + message : ''}`);
      return rejected;
    } catch {
      // A body that is not an export response (e.g. JSON from a proxy) says nothing about rejections.
      return 0;
    }
  }
}

function positive(name: string, v: number): number {
  if (!(Number.isFinite(v) && v > 0)) throw new RangeError(`${name} must be a positive number, got ${v}`);
  return v;
}

function nonNegative(name: string, v: number): number {
  if (!(Number.isInteger(v) && v >= 0)) throw new RangeError(`${name} must be a whole number >= 0, got ${v}`);
  return v;
}

/** Retry-After as delay-seconds or an HTTP date; null when absent or unreadable. */
export function parseRetryAfter(header: string | null, nowMs: number): number | null {
  if (!header) return null;
  const trimmed = header.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? null : Math.max(0, date - nowMs);
}

/** The server's explanation: text as is, or the message of a protobuf google.rpc.Status. */
export function errorText(contentType: string | null, payload: Uint8Array): string {
  if (payload.length === 0) return '(empty body)';
  const type = (contentType ?? '').toLowerCase();
  if (type.includes('protobuf')) {
    const message = rpcStatusMessage(payload);
    if (message !== null) return message;
  }
  const text = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8');
  return text.length > MAX_BODY_IN_LOG ? text.slice(0, MAX_BODY_IN_LOG) + '…' : text;
}

/** google.rpc.Status { int32 code = 1; string message = 2; ... }: only the message is read. */
function rpcStatusMessage(payload: Uint8Array): string | null {
  try {
    const r = protobuf.Reader.create(payload);
    while (r.pos < r.len) {
      const tag = r.uint32();
      if (tag >>> 3 === 2 && (tag & 7) === 2) return r.string();
      r.skipType(tag & 7);
    }
  } catch {
    // Not a Status after all; the caller falls back to raw text.
  }
  return null;
}

/** Resolves true after `ms`, or false as soon as the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
