/** A stand-in OTLP/HTTP gateway on 127.0.0.1 for the demo's tests: records requests, answers as scripted. */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The body after gunzip (when Content-Encoding says gzip). */
  body: Buffer;
  atMs: number;
}

export interface ScriptedAnswer {
  status: number;
  headers?: Record<string, string>;
  body?: Uint8Array | string;
}

export interface FakeGateway {
  endpoint: string;
  requests: ReceivedRequest[];
  /** Answers for the next requests, in order; afterwards every request gets 200 with an empty body. */
  script: ScriptedAnswer[];
  close(): Promise<void>;
}

export async function startFakeGateway(): Promise<FakeGateway> {
  const requests: ReceivedRequest[] = [];
  const script: ScriptedAnswer[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const body = req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
      requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body, atMs: Date.now() });
      const answer = script.shift() ?? { status: 200, headers: { 'content-type': 'application/x-protobuf' } };
      res.writeHead(answer.status, answer.headers);
      res.end(answer.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    script,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
