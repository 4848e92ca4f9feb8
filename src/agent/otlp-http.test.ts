import assert from 'node:assert/strict';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { Writable } from 'node:stream';
import { after, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { gaugeRequest, logRequest, traceRequest } from '../../test/fixtures.ts';
import { IngestError } from '../gateway/codec.ts';
import { decodeRequest, opentelemetry, requestToJson } from '../otlp/index.ts';
import { createLogger } from '../selfobs/index.ts';
import { OTLP_HTTP_PATHS, SIGNALS, type Signal } from '../telemetry/signals.ts';
import { startOtlpHttpReceiver, type OtlpHttpOptions, type OtlpHttpReceiver } from './otlp-http.ts';

const LIMIT = 64 * 1024;
const PROTOBUF = 'application/x-protobuf';
const JSON_TYPE = 'application/json';

const SAMPLE: Record<Signal, () => Uint8Array> = {
  traces: () => traceRequest('checkout', '0af7651916cd43dd8448eb211c80319c', 3),
  metrics: () => gaugeRequest('checkout', 'queue.depth', 42),
  logs: () => logRequest('checkout', 'payment declined'),
};

interface Harness {
  receiver: OtlpHttpReceiver;
  /** What reached ingest, as sent to it. */
  received: Array<{ signal: Signal; payload: Uint8Array }>;
  logLines: string[];
}

const open: OtlpHttpReceiver[] = [];
after(() => Promise.all(open.map((r) => r.close())));

/** A listening receiver whose ingest decodes the payload, as the agent's pipeline does. */
async function start(options: Partial<OtlpHttpOptions> = {}): Promise<Harness> {
  const received: Harness['received'] = [];
  const logLines: string[] = [];
  const logger = createLogger('warn', new Writable({ write: (c, _e, cb) => (logLines.push(String(c)), cb()) }));
  const receiver = await startOtlpHttpReceiver({
    host: '127.0.0.1',
    port: 0,
    maxRequestBytes: LIMIT,
    logger,
    async ingest(signal, payload) {
      decodeRequest(signal, payload);
      received.push({ signal, payload });
      return { accepted: 1, rejected: 0, message: '' };
    },
    ...options,
  });
  open.push(receiver);
  return { receiver, received, logLines };
}

function post(r: OtlpHttpReceiver, path: string, body: Uint8Array | string, headers: Record<string, string>): Promise<Response> {
  return fetch(`${r.url}${path}`, { method: 'POST', headers, body });
}

/** google.rpc.Status from a protobuf error body. */
function statusOf(body: ArrayBuffer | Uint8Array): { code: number; message: string } {
  const bytes = new Uint8Array(body);
  let i = 0;
  let code = 0;
  if (bytes[i] === 0x08) {
    code = bytes[i + 1];
    i += 2;
  }
  assert.equal(bytes[i], 0x12, 'field 2 (message) follows');
  let len = 0;
  let shift = 0;
  for (i++; ; i++) {
    len |= (bytes[i] & 0x7f) << shift;
    shift += 7;
    if (bytes[i] < 0x80) break;
  }
  return { code, message: Buffer.from(bytes.subarray(i + 1, i + 1 + len)).toString('utf8') };
}

/** A raw request whose body the test writes itself; resolves with the answer and whether the server then closed the connection. */
function rawRequest(r: OtlpHttpReceiver, headers: Record<string, string | number>, write: (req: ReturnType<typeof httpRequest>) => void) {
  return new Promise<{ res: IncomingMessage; body: Buffer; closed: Promise<void> }>((resolve, reject) => {
    const req = httpRequest(`${r.url}/v1/traces`, { method: 'POST', headers, agent: false }, (res) => {
      const closed = new Promise<void>((done) => res.socket.once('close', () => done()));
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ res, body: Buffer.concat(chunks), closed }));
    });
    // The server may close while the test still writes: the answer is what counts.
    req.on('error', (err: NodeJS.ErrnoException) => (err.code === 'EPIPE' || err.code === 'ECONNRESET' ? undefined : reject(err)));
    write(req);
  });
}

for (const signal of SIGNALS) {
  test(`${signal}: protobuf, JSON and gzip reach ingest as sent`, async () => {
    const { receiver, received } = await start();
    const sent = SAMPLE[signal]();
    const path = OTLP_HTTP_PATHS[signal];
    const asJson = JSON.stringify(requestToJson(signal, decodeRequest(signal, sent)));

    const proto = await post(receiver, path, sent, { 'content-type': PROTOBUF });
    assert.equal(proto.status, 200);
    assert.equal(proto.headers.get('content-type'), PROTOBUF);
    assert.equal((await proto.arrayBuffer()).byteLength, 0, 'full success is an empty response');

    const json = await post(receiver, path, asJson, { 'content-type': 'application/json; charset=utf-8' });
    assert.equal(json.status, 200);
    assert.equal(json.headers.get('content-type'), JSON_TYPE);
    assert.deepEqual(await json.json(), {});

    const gzProto = await post(receiver, path, gzipSync(sent), { 'content-type': 'application/protobuf', 'content-encoding': 'gzip' });
    assert.equal(gzProto.status, 200);
    const gzJson = await post(receiver, path, gzipSync(asJson), { 'content-type': JSON_TYPE, 'content-encoding': 'gzip' });
    assert.equal(gzJson.status, 200);

    assert.deepEqual(received.map((r) => r.signal), [signal, signal, signal, signal]);
    // Protobuf is passed on byte for byte; JSON is converted, so it is compared decoded.
    assert.deepEqual(Buffer.from(received[0].payload), Buffer.from(sent));
    assert.deepEqual(Buffer.from(received[2].payload), Buffer.from(sent));
    for (const i of [1, 3]) assert.deepEqual(requestToJson(signal, decodeRequest(signal, received[i].payload)), JSON.parse(asJson));
  });
}

test('a partial success from ingest is answered in the encoding of the request', async () => {
  const { receiver } = await start({ ingest: async () => ({ accepted: 1, rejected: 2, message: 'span name too long' }) });
  const proto = await post(receiver, '/v1/traces', SAMPLE.traces(), { 'content-type': PROTOBUF });
  const decoded = opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse.decode(new Uint8Array(await proto.arrayBuffer()));
  assert.equal(Number(decoded.partialSuccess?.rejectedSpans), 2);
  assert.equal(decoded.partialSuccess?.errorMessage, 'span name too long');

  const json = await post(receiver, '/v1/logs', JSON.stringify(requestToJson('logs', decodeRequest('logs', SAMPLE.logs()))), { 'content-type': JSON_TYPE });
  assert.deepEqual(await json.json(), { partialSuccess: { rejectedLogRecords: '2', errorMessage: 'span name too long' } });
});

test('routing: a query string is ignored, other paths are 404, other methods 405 with Allow: POST', async () => {
  const { receiver, received } = await start();
  const withQuery = await post(receiver, '/v1/traces?source=test', SAMPLE.traces(), { 'content-type': PROTOBUF });
  assert.equal(withQuery.status, 200);

  for (const path of ['/', '/v1/spans', '/v1/traces/x', '/v2/traces']) {
    const res = await post(receiver, path, SAMPLE.traces(), { 'content-type': PROTOBUF });
    assert.equal(res.status, 404, path);
    await res.arrayBuffer();
  }
  for (const method of ['GET', 'PUT', 'DELETE']) {
    const res = await fetch(`${receiver.url}/v1/metrics`, { method });
    assert.equal(res.status, 405, method);
    assert.equal(res.headers.get('allow'), 'POST');
    await res.arrayBuffer();
  }
  assert.equal(received.length, 1);
});

test('a Content-Type other than protobuf or JSON is 415 with the gateway message, in JSON', async () => {
  const { receiver, received } = await start();
  for (const type of ['text/plain', 'application/jsonx', 'application/x-protobuf-v2']) {
    const res = await post(receiver, '/v1/traces', 'x', { 'content-type': type });
    assert.equal(res.status, 415, type);
    assert.equal(res.headers.get('content-type'), JSON_TYPE);
    assert.deepEqual(await res.json(), { code: 3, message: `unsupported Content-Type '${type}': use application/x-protobuf or application/json` });
  }
  assert.equal(received.length, 0);
});

test('a Content-Length above the limit is 413 at once, before any of the body is read', async () => {
  const { receiver, received } = await start();
  // No body is ever written: an answer proves the receiver did not wait for it.
  const { res, closed } = await rawRequest(receiver, { 'content-type': PROTOBUF, 'content-length': LIMIT + 1 }, (req) => req.flushHeaders());
  assert.equal(res.statusCode, 413);
  assert.equal(res.headers.connection, 'close');
  await closed;
  assert.equal(received.length, 0);
});

test('a chunked body that streams past the limit is 413 and the connection is closed', async () => {
  const { receiver, received } = await start();
  const chunk = Buffer.alloc(16 * 1024, 1);
  let written = 0;
  let answered = false;
  const { res, body, closed } = await rawRequest(receiver, { 'content-type': PROTOBUF, 'transfer-encoding': 'chunked' }, (req) => {
    // Keeps streaming until the server answers: it must not wait for the end of the body.
    const more = () => {
      if (answered || req.destroyed) return;
      written += chunk.length;
      req.write(chunk, () => setImmediate(more));
    };
    req.once('response', () => (answered = true));
    more();
  });
  assert.equal(res.statusCode, 413);
  assert.equal(statusOf(body).message, `request body exceeds the limit of ${LIMIT} bytes`);
  assert.ok(written > LIMIT, `it answered after ${written} bytes, past the limit`);
  await closed;
  assert.equal(received.length, 0);
});

test('a gzip bomb is refused with 413 once the inflated size passes the limit', async () => {
  const { receiver, received } = await start();
  const bomb = gzipSync(Buffer.alloc(LIMIT * 64));
  assert.ok(bomb.length < LIMIT, 'compressed, it fits the limit');
  const res = await post(receiver, '/v1/logs', bomb, { 'content-type': JSON_TYPE, 'content-encoding': 'gzip' });
  assert.equal(res.status, 413);
  assert.deepEqual(await res.json(), { code: 3, message: `decompressed body exceeds the limit of ${LIMIT} bytes` });
  assert.equal(received.length, 0);
});

test('malformed protobuf and JSON are 400 with a message saying what is wrong', async () => {
  const { receiver, received } = await start();
  // Field 1 (resource_spans) announces 100 bytes and carries 2.
  const proto = await post(receiver, '/v1/traces', Buffer.from([0x0a, 0x64, 0x01, 0x02]), { 'content-type': PROTOBUF });
  assert.equal(proto.status, 400);
  const status = statusOf(await proto.arrayBuffer());
  assert.equal(status.code, 3);
  assert.match(status.message, /^malformed OTLP payload: /);

  const json = await post(receiver, '/v1/traces', '{"resourceSpans": [', { 'content-type': JSON_TYPE });
  assert.equal(json.status, 400);
  assert.match(((await json.json()) as { message: string }).message, /^body is not valid JSON: /);

  const encoding = await post(receiver, '/v1/traces', 'not gzip', { 'content-type': PROTOBUF, 'content-encoding': 'gzip' });
  assert.equal(encoding.status, 400);
  assert.match(statusOf(await encoding.arrayBuffer()).message, /^body is not valid gzip/);
  assert.equal(received.length, 0);
});

test('IngestError from ingest becomes its status, with Retry-After when it has one', async () => {
  let refusal = new IngestError('unavailable', 'the agent cannot take data right now; retry', 3);
  const { receiver } = await start({
    ingest: async () => {
      throw refusal;
    },
  });
  const proto = await post(receiver, '/v1/traces', SAMPLE.traces(), { 'content-type': PROTOBUF });
  assert.equal(proto.status, 503);
  assert.equal(proto.headers.get('retry-after'), '3');
  assert.deepEqual(statusOf(await proto.arrayBuffer()), { code: 14, message: 'the agent cannot take data right now; retry' });

  const json = await post(receiver, '/v1/metrics', JSON.stringify(requestToJson('metrics', decodeRequest('metrics', SAMPLE.metrics()))), { 'content-type': JSON_TYPE });
  assert.equal(json.status, 503);
  assert.deepEqual(await json.json(), { code: 14, message: 'the agent cannot take data right now; retry' });

  refusal = new IngestError('throttled', 'slow down');
  const throttled = await post(receiver, '/v1/traces', SAMPLE.traces(), { 'content-type': PROTOBUF });
  assert.equal(throttled.status, 429);
  assert.equal(throttled.headers.get('retry-after'), null);
  await throttled.arrayBuffer();
});

test('an unexpected error is 500 without its details, and logged', async () => {
  const { receiver, logLines } = await start({
    ingest: async () => {
      throw new Error('disk on fire');
    },
  });
  const res = await post(receiver, '/v1/logs', SAMPLE.logs(), { 'content-type': PROTOBUF });
  assert.equal(res.status, 500);
  assert.deepEqual(statusOf(await res.arrayBuffer()), { code: 13, message: 'internal error' });
  assert.equal(logLines.length, 1);
  assert.match(logLines[0], /disk on fire/);
});

test('close() stops accepting and waits for a request in progress', async () => {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let entered!: () => void;
  const inIngest = new Promise<void>((resolve) => (entered = resolve));
  const { receiver } = await start({
    ingest: async () => {
      entered();
      await gate;
      return { accepted: 1, rejected: 0, message: '' };
    },
  });
  const pending = post(receiver, '/v1/traces', SAMPLE.traces(), { 'content-type': PROTOBUF });
  await inIngest;
  let closed = false;
  const closing = receiver.close().then(() => (closed = true));
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(closed, false, 'close() waits while a request is in progress');
  await assert.rejects(fetch(`${receiver.url}/v1/traces`, { method: 'POST', headers: { 'content-type': PROTOBUF }, body: SAMPLE.traces() }), 'a new connection is refused');

  release();
  const res = await pending;
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('connection'), 'close');
  await closing;
});

test('close() cuts requests still in progress after the drain timeout, and idle connections at once', async () => {
  const { receiver } = await start({ drainTimeoutMs: 200, ingest: () => new Promise(() => {}) });
  const stuck = post(receiver, '/v1/traces', SAMPLE.traces(), { 'content-type': PROTOBUF });
  stuck.catch(() => {});
  await new Promise((resolve) => setTimeout(resolve, 50));
  const started = performance.now();
  await receiver.close();
  const took = performance.now() - started;
  assert.ok(took >= 190 && took < 2_000, `closed after ${took} ms`);
  await assert.rejects(stuck);

  // A kept-alive connection that is idle does not hold close() for the default 5 s.
  const idle = await start();
  const res = await post(idle.receiver, '/v1/logs', SAMPLE.logs(), { 'content-type': PROTOBUF });
  assert.equal(res.status, 200);
  await res.arrayBuffer();
  const t0 = performance.now();
  await idle.receiver.close();
  assert.ok(performance.now() - t0 < 1_000, 'idle connections are closed at once');
});

test('a taken port rejects with the listen error, EADDRINUSE', async () => {
  const { receiver } = await start();
  await assert.rejects(start({ port: receiver.port }), (err: NodeJS.ErrnoException) => err.code === 'EADDRINUSE');
});
