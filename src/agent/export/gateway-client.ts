/**
 * One POST of a gzipped OTLP/protobuf request to the gateway, and what its answer means for
 * the buffer: delivered, retry later (OTLP's retryable codes and requests without an answer),
 * or refused for good.
 *
 * On node:http over one keep-alive connection rather than fetch: the sender has one request in
 * flight at a time, and fetch (undici, whose HTTP parser is WebAssembly compiled and tiered up
 * inside the process) cost the agent about 25 MB more RSS than node:http for the same posts,
 * a quarter of its 100 MB.
 */
import http from 'node:http';
import { opentelemetry, errorText, longToNumber, parseRetryAfter } from '../../otlp/index.ts';
import type { Signal } from '../../telemetry/index.ts';

export type PostOutcome =
  | { kind: 'delivered'; rejectedItems: number; rejectionMessage: string }
  | { kind: 'retry'; problem: string; retryAfterMs: number | null }
  | { kind: 'refused'; status: number; problem: string }
  | { kind: 'aborted' };

/** OTLP/HTTP: throttled or gateway unavailable. Everything else that answers is final. */
const RETRYABLE = new Set([429, 502, 503, 504]);
/**
 * Answers are small (an export response, an error message); a proxy's long error page is
 * read to the end, to keep the connection, but only this much of it is kept.
 */
const MAX_ANSWER_BYTES = 64 * 1024;
/** Errors of a kept-alive connection the server closed just as it was reused. */
const STALE_CONNECTION_CODES = new Set(['ECONNRESET', 'EPIPE']);

export interface PostOptions {
  url: string;
  apiKey: string;
  timeoutMs: number;
  /** Sent as Idempotency-Key, the same on every retry, so the gateway stores a request retried after a timeout once. */
  idempotencyKey?: string;
  /** Aborting cancels the request: the outcome is 'aborted'. */
  stop: AbortSignal;
}

interface Answer {
  status: number;
  statusText: string;
  headers: http.IncomingHttpHeaders;
  payload: Buffer;
}

/** Why an exchange ended without a complete answer. */
class ExchangeFailure extends Error {
  readonly reason: 'timeout' | 'aborted' | 'network';
  /** The request went out on a reused keep-alive connection and nothing came back. */
  readonly onReusedConnection: boolean;
  readonly code: string | undefined;

  constructor(reason: ExchangeFailure['reason'], message: string, onReusedConnection: boolean, code: string | undefined) {
    super(message);
    this.reason = reason;
    this.onReusedConnection = onReusedConnection;
    this.code = code;
  }
}

interface Transport {
  request: (url: URL, options: http.RequestOptions) => http.ClientRequest;
  agent: http.Agent;
}

/** One connection, reused: the sender has one request in flight at a time. */
const AGENT_OPTIONS: http.AgentOptions = { keepAlive: true, maxSockets: 1, maxFreeSockets: 1 };

/** Posts to the gateway over one kept-alive connection per protocol. close() ends it. */
export class GatewayClient {
  private httpTransport: Transport | null = null;
  private httpsTransport: Promise<Transport> | null = null;
  private closed = false;

  async post(signal: Signal, gzipped: Buffer, options: PostOptions): Promise<PostOutcome> {
    const { url, stop } = options;
    if (stop.aborted || this.closed) return { kind: 'aborted' };
    const headers: Record<string, string> = {
      'content-type': 'application/x-protobuf',
      'content-encoding': 'gzip',
      'content-length': String(gzipped.length),
      authorization: `Bearer ${options.apiKey}`,
    };
    if (options.idempotencyKey !== undefined) headers['idempotency-key'] = options.idempotencyKey;
    try {
      const target = new URL(url);
      const transport = await this.transport(target.protocol);
      let answer: Answer;
      try {
        answer = await exchange(transport, target, headers, gzipped, options.timeoutMs, stop);
      } catch (err) {
        // The server closed the idle connection as it was reused: try once on a new one.
        if (!(err instanceof ExchangeFailure && err.onReusedConnection && err.code !== undefined && STALE_CONNECTION_CODES.has(err.code))) throw err;
        answer = await exchange(transport, target, headers, gzipped, options.timeoutMs, stop);
      }
      return outcomeOf(signal, url, answer);
    } catch (err) {
      if (stop.aborted || (err instanceof ExchangeFailure && err.reason === 'aborted')) return { kind: 'aborted' };
      const e = err as Error & { code?: string };
      const reason = err instanceof ExchangeFailure && err.reason === 'timeout' ? `no answer within ${options.timeoutMs} ms` : (e.code ?? e.message);
      return { kind: 'retry', problem: `request to ${url} failed: ${reason}`, retryAfterMs: null };
    }
  }

  /** Closes the kept-alive connections; later posts end as 'aborted'. */
  close(): void {
    this.closed = true;
    this.httpTransport?.agent.destroy();
    void this.httpsTransport?.then((t) => t.agent.destroy());
  }

  private transport(protocol: string): Promise<Transport> | Transport {
    if (protocol === 'https:') {
      // Loaded only for an https gateway: TLS costs memory an http one does not need.
      this.httpsTransport ??= import('node:https').then((m) => ({ request: (url, options) => m.request(url, options), agent: new m.Agent(AGENT_OPTIONS) }));
      return this.httpsTransport;
    }
    this.httpTransport ??= { request: (url, options) => http.request(url, options), agent: new http.Agent(AGENT_OPTIONS) };
    return this.httpTransport;
  }
}

/** Sends the request and reads the answer; rejects with an ExchangeFailure when none came whole. */
function exchange(transport: Transport, url: URL, headers: Record<string, string>, body: Buffer, timeoutMs: number, stop: AbortSignal): Promise<Answer> {
  return new Promise((resolve, reject) => {
    if (stop.aborted) {
      reject(new ExchangeFailure('aborted', 'stopped', false, undefined));
      return;
    }
    let settled = false;
    let answered = false;
    let failure: ExchangeFailure['reason'] = 'network';
    const req = transport.request(url, { method: 'POST', headers, agent: transport.agent });
    const finish = (err: Error | null, answer?: Answer): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      stop.removeEventListener('abort', onAbort);
      if (err === null) {
        resolve(answer!);
        return;
      }
      const code = (err as Error & { code?: string }).code;
      reject(new ExchangeFailure(failure, err.message, req.reusedSocket && !answered, code));
    };
    const cancel = (reason: ExchangeFailure['reason'], message: string): void => {
      failure = reason;
      req.destroy(new Error(message));
    };
    // The whole exchange, answer included, as fetch's AbortSignal.timeout bounded it.
    const timer = setTimeout(() => cancel('timeout', `no answer within ${timeoutMs} ms`), timeoutMs);
    const onAbort = (): void => cancel('aborted', 'stopped');
    stop.addEventListener('abort', onAbort, { once: true });
    req.on('error', (err) => finish(err));
    req.on('response', (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      let kept = 0;
      res.on('data', (chunk: Buffer) => {
        if (kept >= MAX_ANSWER_BYTES) return;
        const part = chunk.subarray(0, MAX_ANSWER_BYTES - kept);
        chunks.push(part);
        kept += part.length;
      });
      res.on('end', () => finish(null, { status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', headers: res.headers, payload: Buffer.concat(chunks, kept) }));
      res.on('error', (err) => finish(err));
      res.on('close', () => finish(new Error('connection closed before the answer was complete')));
    });
    req.end(body);
  });
}

function outcomeOf(signal: Signal, url: string, answer: Answer): PostOutcome {
  const { status, payload } = answer;
  if (status >= 200 && status < 300) return { kind: 'delivered', ...partialSuccess(signal, payload) };
  const problem = `HTTP ${status}${answer.statusText ? ' ' + answer.statusText : ''} from ${url}: ${errorText(header(answer, 'content-type'), payload)}`;
  if (RETRYABLE.has(status)) return { kind: 'retry', problem, retryAfterMs: parseRetryAfter(header(answer, 'retry-after'), Date.now()) };
  return { kind: 'refused', status, problem };
}

function header(answer: Answer, name: string): string | null {
  const v = answer.headers[name];
  return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
}

/** Items the gateway took the request but refused (OTLP partial success); 0 for an empty body. */
function partialSuccess(signal: Signal, payload: Uint8Array): { rejectedItems: number; rejectionMessage: string } {
  if (payload.length === 0) return { rejectedItems: 0, rejectionMessage: '' };
  try {
    const collector = opentelemetry.proto.collector;
    let p: { errorMessage?: string | null } | null | undefined;
    let rejected: unknown;
    if (signal === 'traces') {
      const ps = collector.trace.v1.ExportTraceServiceResponse.decode(payload).partialSuccess;
      [p, rejected] = [ps, ps?.rejectedSpans];
    } else if (signal === 'logs') {
      const ps = collector.logs.v1.ExportLogsServiceResponse.decode(payload).partialSuccess;
      [p, rejected] = [ps, ps?.rejectedLogRecords];
    } else {
      const ps = collector.metrics.v1.ExportMetricsServiceResponse.decode(payload).partialSuccess;
      [p, rejected] = [ps, ps?.rejectedDataPoints];
    }
    return { rejectedItems: rejected == null ? 0 : longToNumber(rejected), rejectionMessage: p?.errorMessage ?? '' };
  } catch {
    // A body that is not an export response (a proxy's JSON, say) tells nothing about rejections.
    return { rejectedItems: 0, rejectionMessage: '' };
  }
}
