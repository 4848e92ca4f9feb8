/**
 * Test helpers for the exporter: a fake gateway on node:http that decodes what it receives
 * and answers as scripted, and batches whose items carry ids, so tests can check what
 * arrived, how often and in which order.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { decodeRequest } from '../../otlp/index.ts';
import type { ExportRequestBySignal } from '../../otlp/index.ts';
import type { Signal } from '../../telemetry/index.ts';
import type { SourceCheckpoint, Telemetry } from '../types.ts';

/** What the fake gateway does with a request. */
export type Answer =
  /** `delayMs`: the request is recorded at once, answered only after this long (slower than the agent's timeout). */
  | { status: number; headers?: Record<string, string>; body?: string | Uint8Array; delayMs?: number }
  /** Holds the request without answering or recording it (a hung gateway). */
  | 'hang';

export const OK: Answer = { status: 200 };

export interface Received {
  atMs: number;
  signal: Signal;
  authorization: string | undefined;
  contentType: string | undefined;
  contentEncoding: string | undefined;
  idempotencyKey: string | undefined;
  /** Ids of the items (log record bodies, span names, metric names), in request order. */
  ids: string[];
  /** Decoded request, as the gateway would see it. */
  request: ExportRequestBySignal[Signal];
  /** What the fake answered. */
  status: number;
}

export class FakeGateway {
  /** Every request answered, in arrival order (hung ones are not). */
  readonly received: Received[] = [];
  /** Arrival times of every request, answered or not. */
  readonly attempts: Array<{ atMs: number; signal: Signal }> = [];
  /** Decides the answer of each request; OK unless a test sets it. */
  answer: (signal: Signal, attempt: number) => Answer = () => OK;
  private server: http.Server | null = null;
  private portNumber = 0;
  private readonly hung = new Set<http.ServerResponse>();

  get url(): string {
    return `http://127.0.0.1:${this.portNumber}`;
  }

  /** Starts listening (on the same port as before when restarted). */
  async start(): Promise<void> {
    const server = http.createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.portNumber, '127.0.0.1', () => resolve());
    });
    this.portNumber = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** Stops listening and cuts every connection: the agent now gets connection refused. */
  async stop(): Promise<void> {
    const server = this.server;
    if (server === null) return;
    this.server = null;
    for (const res of this.hung) res.destroy();
    this.hung.clear();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Ids received with a 2xx answer, in arrival order. */
  deliveredIds(): string[] {
    return this.received.filter((r) => r.status >= 200 && r.status < 300).flatMap((r) => r.ids);
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const signal = signalOf(req.url ?? '');
      const atMs = Date.now();
      this.attempts.push({ atMs, signal });
      const answer = this.answer(signal, this.attempts.length);
      if (answer === 'hang') {
        this.hung.add(res);
        res.on('close', () => this.hung.delete(res));
        return;
      }
      let body = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
      const request = decodeRequest(signal, body);
      this.received.push({
        atMs,
        signal,
        authorization: req.headers.authorization,
        contentType: req.headers['content-type'],
        contentEncoding: req.headers['content-encoding'],
        idempotencyKey: req.headers['idempotency-key'] as string | undefined,
        ids: itemIds(signal, request),
        request,
        status: answer.status,
      });
      const send = () => {
        if (res.destroyed) return;
        res.writeHead(answer.status, answer.headers ?? {});
        res.end(answer.body ?? '');
      };
      if (answer.delayMs === undefined) send();
      else setTimeout(send, answer.delayMs);
    });
  }
}

function signalOf(url: string): Signal {
  if (url.endsWith('/v1/traces')) return 'traces';
  if (url.endsWith('/v1/metrics')) return 'metrics';
  if (url.endsWith('/v1/logs')) return 'logs';
  throw new Error(`fake gateway: unexpected path ${url}`);
}

export function itemIds(signal: Signal, request: ExportRequestBySignal[Signal]): string[] {
  const ids: string[] = [];
  if (signal === 'logs') {
    for (const rl of (request as ExportRequestBySignal['logs']).resourceLogs)
      for (const sl of rl.scopeLogs) for (const lr of sl.logRecords) ids.push(lr.body?.stringValue ?? '');
  } else if (signal === 'traces') {
    for (const rs of (request as ExportRequestBySignal['traces']).resourceSpans) for (const ss of rs.scopeSpans) for (const s of ss.spans) ids.push(s.name ?? '');
  } else {
    for (const rm of (request as ExportRequestBySignal['metrics']).resourceMetrics)
      for (const sm of rm.scopeMetrics) for (const m of sm.metrics) for (let i = 0; i < (m.gauge?.dataPoints.length ?? 0); i++) ids.push(m.name ?? '');
  }
  return ids;
}

/** A logs batch with one log record per id (the id is the body). */
export function logsBatch(ids: string[], options: { checkpoint?: SourceCheckpoint; padBytes?: number } = {}): Telemetry {
  const pad = options.padBytes ? 'x'.repeat(options.padBytes) : undefined;
  const batch: Telemetry = {
    signal: 'logs',
    items: ids.length,
    request: {
      resourceLogs: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'export-test' } }] },
          scopeLogs: [
            {
              logRecords: ids.map((id) => ({
                timeUnixNano: 1_700_000_000_000_000_000,
                body: { stringValue: id },
                attributes: pad === undefined ? [] : [{ key: 'pad', value: { stringValue: pad } }],
              })),
            },
          ],
        },
      ],
    },
  };
  if (options.checkpoint !== undefined) batch.checkpoint = options.checkpoint;
  return batch;
}

/** A traces batch with one span per id (the id is the span name). */
export function tracesBatch(ids: string[]): Telemetry {
  return {
    signal: 'traces',
    items: ids.length,
    request: {
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'export-test' } }] },
          scopeSpans: [
            {
              spans: ids.map((name, i) => ({
                traceId: Buffer.alloc(16, i + 1),
                spanId: Buffer.alloc(8, i + 1),
                name,
                kind: 1,
                startTimeUnixNano: 1_700_000_000_000_000_000,
                endTimeUnixNano: 1_700_000_000_100_000_000,
              })),
            },
          ],
        },
      ],
    },
  };
}

/** Polls `check` until it holds; fails with `what` after `timeoutMs`. */
export async function waitFor(what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
