import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { encodeRequest, opentelemetry } from '../../otlp/index.ts';
import { GatewayClient } from './gateway-client.ts';
import type { PostOptions } from './gateway-client.ts';

const TIMEOUT = { timeout: 30_000 };
const BODY = gzipSync(Buffer.from(encodeRequest('logs', { resourceLogs: [] })));

interface Seen {
  connections: number;
  /** Connections that ended. */
  closed: number;
  requests: Array<{ connection: number; url: string; authorization: string | undefined; encoding: string | undefined; bytes: number }>;
}

/** A gateway whose handler decides each answer; counts connections and requests per connection. */
async function withServer(
  handle: (req: http.IncomingMessage, res: http.ServerResponse, nth: { onConnection: number }) => void,
  fn: (url: string, seen: Seen) => Promise<void>,
): Promise<void> {
  const seen: Seen = { connections: 0, closed: 0, requests: [] };
  const server = http.createServer();
  const perSocket = new WeakMap<object, { connection: number; requests: number }>();
  server.on('connection', (socket) => {
    perSocket.set(socket, { connection: ++seen.connections, requests: 0 });
    socket.on('close', () => seen.closed++);
  });
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    const counts = perSocket.get(req.socket)!;
    const connection = counts.connection;
    const onConnection = ++counts.requests;
    let bytes = 0;
    req.on('data', (c: Buffer) => (bytes += c.length));
    req.on('end', () => {
      seen.requests.push({ connection, url: req.url ?? '', authorization: req.headers.authorization, encoding: req.headers['content-encoding'], bytes });
      handle(req, res, { onConnection });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  try {
    await fn(`http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/logs`, seen);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

function options(url: string, extra: Partial<PostOptions> = {}): PostOptions {
  return { url, apiKey: 'k1', timeoutMs: 10_000, stop: new AbortController().signal, ...extra };
}

test('posts go one after another over one kept-alive connection, with the key and gzip', TIMEOUT, async () => {
  await withServer(
    (_req, res) => res.writeHead(200).end(),
    async (url, seen) => {
      const client = new GatewayClient();
      try {
        for (let i = 0; i < 5; i++) assert.deepEqual(await client.post('logs', BODY, options(url)), { kind: 'delivered', rejectedItems: 0, rejectionMessage: '' });
      } finally {
        client.close();
      }
      assert.equal(seen.requests.length, 5);
      assert.equal(seen.connections, 1, 'one connection for all');
      assert.deepEqual(seen.requests[0], { connection: 1, url: '/v1/logs', authorization: 'Bearer k1', encoding: 'gzip', bytes: BODY.length });
    },
  );
});

test('a kept-alive connection the gateway dropped as it was reused is retried once on a new one', TIMEOUT, async () => {
  await withServer(
    (req, res, { onConnection }) => {
      // Every second request on a connection: the gateway closes it instead of answering.
      if (onConnection === 2) req.socket.destroy();
      else res.writeHead(200).end();
    },
    async (url, seen) => {
      const client = new GatewayClient();
      try {
        assert.equal((await client.post('logs', BODY, options(url))).kind, 'delivered');
        assert.equal((await client.post('logs', BODY, options(url))).kind, 'delivered', 'the drop is not a failure');
      } finally {
        client.close();
      }
      assert.equal(seen.connections, 2);
      assert.deepEqual(
        seen.requests.map((r) => r.connection),
        [1, 1, 2],
      );
    },
  );
});

test('answers: partial success, a retryable status with Retry-After, a refusal with its message capped', TIMEOUT, async () => {
  const Response = opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse;
  const partial = Response.encode({ partialSuccess: { rejectedLogRecords: 3, errorMessage: 'too old' } }).finish();
  const answers = [
    (res: http.ServerResponse) => res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end(partial),
    (res: http.ServerResponse) => res.writeHead(503, { 'retry-after': '7' }).end('busy'),
    (res: http.ServerResponse) => res.writeHead(400, { 'content-type': 'text/plain' }).end('bad attribute x' + 'y'.repeat(1024 * 1024)),
    (res: http.ServerResponse) => res.writeHead(200).end(),
  ];
  let n = 0;
  await withServer(
    (_req, res) => answers[n++](res),
    async (url, seen) => {
      const client = new GatewayClient();
      try {
        assert.deepEqual(await client.post('logs', BODY, options(url)), { kind: 'delivered', rejectedItems: 3, rejectionMessage: 'too old' });
        const retry = await client.post('logs', BODY, options(url));
        assert.equal(retry.kind, 'retry');
        assert.equal(retry.kind === 'retry' && retry.retryAfterMs, 7_000);
        assert.match(retry.kind === 'retry' ? retry.problem : '', /^HTTP 503 Service Unavailable from .*: busy$/);
        const refused = await client.post('logs', BODY, options(url));
        assert.equal(refused.kind, 'refused');
        const problem = refused.kind === 'refused' ? refused.problem : '';
        assert.match(problem, /^HTTP 400 Bad Request from .*: bad attribute xyyy/);
        assert.ok(problem.length < 64 * 1024, `the long body is cut short in the problem (${problem.length} chars)`);
        assert.equal((await client.post('logs', BODY, options(url))).kind, 'delivered', 'the long answer was read to its end');
      } finally {
        client.close();
      }
      assert.equal(seen.connections, 1, 'the connection survived every answer');
    },
  );
});

test('no answer within timeoutMs is a retry; stop aborts a request in flight; close ends the connection', TIMEOUT, async () => {
  await withServer(
    () => {
      // Never answers.
    },
    async (url, seen) => {
      const client = new GatewayClient();
      try {
        const timedOut = await client.post('logs', BODY, options(url, { timeoutMs: 200 }));
        assert.deepEqual(timedOut, { kind: 'retry', problem: `request to ${url} failed: no answer within 200 ms`, retryAfterMs: null });
        const stop = new AbortController();
        const inFlight = client.post('logs', BODY, options(url, { stop: stop.signal }));
        await waitUntil(() => seen.requests.length === 2, 'the second request to arrive');
        stop.abort();
        assert.deepEqual(await inFlight, { kind: 'aborted' });
        await waitUntil(() => seen.closed === 1, 'the timed-out request’s connection to end');
      } finally {
        client.close();
      }
      await waitUntil(() => seen.closed === seen.connections, 'close() to end the connection');
      assert.deepEqual(await client.post('logs', BODY, options(url)), { kind: 'aborted' }, 'a closed client sends nothing');
      assert.equal(seen.requests.length, 2);
    },
  );
});

test('a gateway that is not listening is a retry naming the connection error', TIMEOUT, async () => {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`;
  await new Promise((resolve) => server.close(resolve));
  const client = new GatewayClient();
  try {
    assert.deepEqual(await client.post('traces', BODY, options(url)), { kind: 'retry', problem: `request to ${url} failed: ECONNREFUSED`, retryAfterMs: null });
  } finally {
    client.close();
  }
});

async function waitUntil(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
