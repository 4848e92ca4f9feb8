import assert from 'node:assert/strict';
import http2, { type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http2';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { Metadata, credentials, makeGenericClientConstructor, status, type Client, type ServiceError } from '@grpc/grpc-js';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { gaugeRequest, logRequest, traceRequest } from '../../test/fixtures.ts';
import { OTLP_GRPC_PATHS, otlpServiceDefinition } from '../gateway/grpc-services.ts';
import { RETRY_INFO_TYPE_URL, STATUS_DETAILS_KEY } from '../gateway/grpc-status-body.ts';
import { IngestError } from '../gateway/ingest-error.ts';
import type { IngestResult } from '../gateway/pipeline.ts';
import { bytesToHex, decodeRequest, opentelemetry } from '../otlp/index.ts';
import { createLogger } from '../selfobs/index.ts';
import { SIGNALS, type Signal } from '../telemetry/signals.ts';
import { OTLP_GRPC_EXPORT_PATHS, percentEncode, startOtlpGrpcReceiver, type OtlpGrpcOptions, type OtlpGrpcReceiver } from './otlp-grpc.ts';
import { retryInfoOf } from '../gateway/grpc-status-testing.ts';

const LIMIT = 1024 * 1024;
const collector = opentelemetry.proto.collector;

const SAMPLE: Record<Signal, () => Uint8Array> = {
  traces: () => traceRequest('checkout', '0af7651916cd43dd8448eb211c80319c', 3),
  metrics: () => gaugeRequest('checkout', 'queue.depth', 42),
  logs: () => logRequest('checkout', 'payment declined'),
};

/** The partial success of each signal's Export*ServiceResponse, decoded by the generated code. */
const PARTIAL: Record<Signal, (bytes: Uint8Array) => { rejected: number; message: string } | undefined> = {
  traces: (b) => {
    const p = collector.trace.v1.ExportTraceServiceResponse.decode(b).partialSuccess;
    return p ? { rejected: Number(p.rejectedSpans), message: p.errorMessage ?? '' } : undefined;
  },
  metrics: (b) => {
    const p = collector.metrics.v1.ExportMetricsServiceResponse.decode(b).partialSuccess;
    return p ? { rejected: Number(p.rejectedDataPoints), message: p.errorMessage ?? '' } : undefined;
  },
  logs: (b) => {
    const p = collector.logs.v1.ExportLogsServiceResponse.decode(b).partialSuccess;
    return p ? { rejected: Number(p.rejectedLogRecords), message: p.errorMessage ?? '' } : undefined;
  },
};


interface Harness {
  receiver: OtlpGrpcReceiver;
  /** What reached ingest, as it reached it. */
  received: Array<{ signal: Signal; payload: Buffer }>;
  /** What ingest answers next; a default full success. */
  next: () => Promise<IngestResult>;
  logLines: string[];
}

const open: OtlpGrpcReceiver[] = [];
const clients: Client[] = [];
after(async () => {
  for (const c of clients) c.close();
  await Promise.all(open.map((r) => r.close()));
});

async function start(options: Partial<OtlpGrpcOptions> = {}): Promise<Harness> {
  const logLines: string[] = [];
  const logger = createLogger('warn', new Writable({ write: (c, _e, cb) => (logLines.push(String(c)), cb()) }));
  const h: Harness = { receiver: undefined as unknown as OtlpGrpcReceiver, received: [], next: async () => ({ accepted: 1, rejected: 0, message: '' }), logLines };
  h.receiver = await startOtlpGrpcReceiver({
    host: '127.0.0.1',
    port: 0,
    maxRequestBytes: LIMIT,
    logger,
    ingest: (signal, payload) => {
      h.received.push({ signal, payload: Buffer.from(payload) });
      return h.next();
    },
    ...options,
  });
  open.push(h.receiver);
  return h;
}

/** Makes ingest wait until released; `inIngest` resolves once a call is inside it. */
function holdIngest(h: Harness): { inIngest: Promise<void>; release: () => void } {
  let entered!: () => void;
  let answer: (() => void) | undefined;
  const inIngest = new Promise<void>((r) => (entered = r));
  h.next = () => {
    entered();
    return new Promise((r) => (answer = () => r({ accepted: 1, rejected: 0, message: '' })));
  };
  return { inIngest, release: () => answer?.() };
}

type ExportClient = Client & { Export(body: Buffer, metadata: Metadata, callback: (err: ServiceError | null, response?: Buffer) => void): { cancel(): void } };

const SERVICE_NAMES: Record<Signal, string> = { traces: 'TraceService', metrics: 'MetricsService', logs: 'LogsService' };

function clientFor(r: OtlpGrpcReceiver, signal: Signal, compression: 'none' | 'deflate' | 'gzip' = 'none', path?: string): ExportClient {
  const own = otlpServiceDefinition(signal);
  const definition = path ? { Export: { ...own.Export, path } } : own;
  const Ctor = makeGenericClientConstructor(definition, SERVICE_NAMES[signal]);
  const algorithm = { none: 0, deflate: 1, gzip: 2 }[compression];
  const client = new Ctor(`127.0.0.1:${r.port}`, credentials.createInsecure(), { 'grpc.default_compression_algorithm': algorithm, 'grpc.max_send_message_length': -1 });
  clients.push(client);
  return client as unknown as ExportClient;
}

function exportCall(client: ExportClient, body: Uint8Array): Promise<{ err: ServiceError | null; response?: Buffer }> {
  return new Promise((resolve) => client.Export(Buffer.from(body), new Metadata(), (err, response) => resolve({ err, response })));
}


/** A gRPC length-prefixed message. */
function frame(message: Uint8Array, compressed = false, announced = message.length): Buffer {
  const head = Buffer.alloc(5);
  head[0] = compressed ? 1 : 0;
  head.writeUInt32BE(announced, 1);
  return Buffer.concat([head, message]);
}

interface RawAnswer {
  headers: IncomingHttpHeaders;
  trailers: IncomingHttpHeaders;
  data: Buffer;
  /** grpc-status from the trailers, or from the headers of a trailers-only answer. */
  grpcStatus?: number;
  /** The RST_STREAM code the stream closed with (0 = NO_ERROR). */
  rstCode: number | undefined;
}

/**
 * One request on a plain node:http2 client, for what no gRPC library would send. With
 * `end: false` the request body is left open, as a stalled or oversized upload would be.
 */
function rawCall(r: OtlpGrpcReceiver, headers: OutgoingHttpHeaders, body: Buffer[], end = true): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(r.url);
    session.on('error', reject);
    const req = session.request({ ':method': 'POST', ':path': OTLP_GRPC_PATHS.traces, 'content-type': 'application/grpc', te: 'trailers', ...headers });
    let answer: IncomingHttpHeaders = {};
    let trailers: IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    req.on('response', (h) => (answer = h));
    req.on('trailers', (t) => (trailers = t));
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('error', reject);
    req.on('close', () => {
      session.close();
      const code = trailers['grpc-status'] ?? answer['grpc-status'];
      resolve({ headers: answer, trailers, data: Buffer.concat(chunks), grpcStatus: code === undefined ? undefined : Number(code), rstCode: req.rstCode });
    });
    for (const b of body) req.write(b);
    if (end) req.end();
  });
}

test('the paths are the gateway\'s OTLP/gRPC paths', () => {
  assert.deepEqual(OTLP_GRPC_EXPORT_PATHS, OTLP_GRPC_PATHS);
});

test('grpc-js exports of every signal reach ingest byte for byte; full success is an empty response', async () => {
  const h = await start();
  for (const signal of SIGNALS) {
    const body = SAMPLE[signal]();
    const { err, response } = await exportCall(clientFor(h.receiver, signal), body);
    assert.equal(err, null, signal);
    assert.equal(response!.length, 0, `${signal}: nothing rejected, nothing to say`);
    assert.equal(PARTIAL[signal](response!), undefined);
    const last = h.received.at(-1)!;
    assert.equal(last.signal, signal);
    assert.deepEqual(last.payload, Buffer.from(body));
    decodeRequest(signal, last.payload);
  }
  assert.equal(h.received.length, 3);
});

test('a partial success reaches the client intact, as each signal\'s Export*ServiceResponse', async () => {
  const h = await start();
  for (const [i, signal] of SIGNALS.entries()) {
    const message = `${i + 2} ${signal} items had no timestamp`;
    h.next = async () => ({ accepted: 1, rejected: i + 2, message });
    const { err, response } = await exportCall(clientFor(h.receiver, signal), SAMPLE[signal]());
    assert.equal(err, null);
    assert.deepEqual(PARTIAL[signal](response!), { rejected: i + 2, message });
  }
});

test('many calls at once on one connection each get their own payload and answer', async () => {
  const h = await start();
  h.next = async () => {
    const n = h.received.length;
    await new Promise((r) => setTimeout(r, 5));
    return { accepted: 1, rejected: n, message: `call ${n}` };
  };
  const client = clientFor(h.receiver, 'logs');
  const bodies = Array.from({ length: 30 }, (_, i) => logRequest('checkout', `line ${i}`));
  const answers = await Promise.all(bodies.map((b) => exportCall(client, b)));
  for (const a of answers) assert.equal(a.err, null);
  assert.deepEqual(h.received.map((x) => x.payload.toString('hex')).sort(), bodies.map((b) => Buffer.from(b).toString('hex')).sort());
  const said = new Set(answers.map((a) => PARTIAL.logs(a.response!)!.message));
  assert.equal(said.size, 30, 'every call got the answer of its own ingest');
});

for (const compression of ['none', 'gzip'] as const) {
  test(`spans from the OpenTelemetry SDK's OTLP/gRPC exporter (compression ${compression}) arrive`, async () => {
    const h = await start();
    const exporter = new OTLPTraceExporter({ url: h.receiver.url, compression: compression as never });
    const provider = new BasicTracerProvider({ resource: resourceFromAttributes({ 'service.name': `sdk-${compression}` }), spanProcessors: [new SimpleSpanProcessor(exporter)] });
    const tracer = provider.getTracer('lean-grpc-test');
    const span = tracer.startSpan('GET /cart', { attributes: { 'http.request.method': 'GET' } });
    span.end();
    await provider.forceFlush();
    await provider.shutdown();
    assert.equal(h.received.length, 1);
    const request = decodeRequest('traces', h.received[0].payload);
    const got = request.resourceSpans[0].scopeSpans[0].spans[0];
    assert.equal(got.name, 'GET /cart');
    assert.equal(bytesToHex(got.traceId!), span.spanContext().traceId);
    assert.equal(bytesToHex(got.spanId!), span.spanContext().spanId);
  });
}

test('gzip- and deflate-compressed calls arrive decompressed', async () => {
  const h = await start();
  const body = traceRequest('compressed', '0af7651916cd43dd8448eb211c80319c', 200);
  for (const compression of ['gzip', 'deflate'] as const) {
    assert.equal((await exportCall(clientFor(h.receiver, 'traces', compression), body)).err, null, compression);
  }
  assert.equal(h.received.length, 2);
  for (const r of h.received) assert.deepEqual(r.payload, Buffer.from(body));
});

test('a message over maxRequestBytes is RESOURCE_EXHAUSTED without RetryInfo; exactly the limit is taken', async () => {
  const h = await start();
  const client = clientFor(h.receiver, 'traces');
  const { err } = await exportCall(client, Buffer.alloc(LIMIT + 1, 1));
  assert.equal(err?.code, status.RESOURCE_EXHAUSTED);
  assert.equal(err!.details, `Received message larger than max (${LIMIT + 1} vs ${LIMIT})`);
  assert.equal(err!.metadata.get(STATUS_DETAILS_KEY).length, 0, 'OTLP clients must not retry it');
  assert.equal(h.received.length, 0);
  assert.equal((await exportCall(client, Buffer.alloc(LIMIT, 1))).err, null);
  assert.equal(h.received[0].payload.length, LIMIT);
});

test('an oversized message is refused from its length prefix, before its bytes are sent', async () => {
  const h = await start();
  // Announces 100 MB, sends none of it and keeps the request open: only the prefix can answer.
  const answer = await rawCall(h.receiver, {}, [frame(Buffer.alloc(0), false, 100_000_000)], false);
  assert.equal(answer.grpcStatus, status.RESOURCE_EXHAUSTED);
  assert.equal(answer.headers[':status'], 200);
  assert.equal(answer.data.length, 0, 'trailers-only');
  assert.equal(answer.rstCode, http2.constants.NGHTTP2_NO_ERROR, 'the client is told to stop sending, without error');
  assert.equal(h.received.length, 0);
});

test('a gzip bomb is RESOURCE_EXHAUSTED at the decompressed limit, and the server serves on', async () => {
  const h = await start();
  const bomb = Buffer.alloc(50 * 1024 * 1024);
  assert.ok(gzipSync(bomb).length < LIMIT, 'small as sent');
  const client = clientFor(h.receiver, 'traces', 'gzip');
  const { err } = await exportCall(client, bomb);
  assert.equal(err?.code, status.RESOURCE_EXHAUSTED);
  assert.equal(err!.details, `Received message that decompresses to a size larger than ${LIMIT}`);
  assert.equal(h.received.length, 0);
  const body = SAMPLE.traces();
  assert.equal((await exportCall(client, body)).err, null);
  assert.deepEqual(h.received[0].payload, Buffer.from(body));
});

test('unavailable with a retry delay is UNAVAILABLE with a RetryInfo in grpc-status-details-bin', async () => {
  const h = await start();
  h.next = () => Promise.reject(new IngestError('unavailable', 'the agent cannot take data right now; retry', 2.5));
  const { err } = await exportCall(clientFor(h.receiver, 'metrics'), SAMPLE.metrics());
  assert.equal(err?.code, status.UNAVAILABLE);
  assert.equal(err!.details, 'the agent cannot take data right now; retry');
  assert.deepEqual(retryInfoOf(err!), { code: status.UNAVAILABLE, message: 'the agent cannot take data right now; retry', typeUrl: RETRY_INFO_TYPE_URL, seconds: 2, nanos: 500_000_000 });
  h.next = () => Promise.reject(new IngestError('throttled', 'slow down', 7));
  const throttled = await exportCall(clientFor(h.receiver, 'logs'), SAMPLE.logs());
  assert.equal(throttled.err?.code, status.RESOURCE_EXHAUSTED);
  assert.equal(retryInfoOf(throttled.err!).seconds, 7);
});

test('invalid is INVALID_ARGUMENT with its message, percent-encoded on the wire and read back intact', async () => {
  const h = await start();
  const message = 'malformed OTLP payload: 100% truncated – “field 3”\n';
  h.next = () => Promise.reject(new IngestError('invalid', message));
  const { err } = await exportCall(clientFor(h.receiver, 'traces'), Buffer.from('not protobuf'));
  assert.equal(err?.code, status.INVALID_ARGUMENT);
  assert.equal(err!.details, message);
  assert.equal(err!.metadata.get(STATUS_DETAILS_KEY).length, 0);
});

test('grpc-message escapes every byte outside printable ASCII, and the percent sign', () => {
  assert.equal(percentEncode('plain text; ok!'), 'plain text; ok!');
  assert.equal(percentEncode('50% off'), '50%25 off');
  assert.equal(percentEncode('a\nb\tc'), 'a%0Ab%09c');
  assert.equal(percentEncode('é'), '%C3%A9');
});

test('an unexpected failure is INTERNAL without its details, and logged', async () => {
  const h = await start();
  h.next = () => Promise.reject(new Error('secret internals'));
  const { err } = await exportCall(clientFor(h.receiver, 'traces'), SAMPLE.traces());
  assert.equal(err?.code, status.INTERNAL);
  assert.equal(err!.details, 'internal error');
  assert.match(h.logLines.join(''), /secret internals/);
});

test('an unknown method is UNIMPLEMENTED and reaches no ingest', async () => {
  const h = await start();
  const client = clientFor(h.receiver, 'traces', 'none', '/opentelemetry.proto.collector.profiles.v1development.ProfilesService/Export');
  const { err } = await exportCall(client, SAMPLE.traces());
  assert.equal(err?.code, status.UNIMPLEMENTED);
  assert.match(err!.details, /unknown method \/opentelemetry\.proto\.collector\.profiles/);
  assert.equal(h.received.length, 0);
});

test('requests that are not gRPC get plain HTTP answers: 405 for GET, 415 for other content types', async () => {
  const h = await start();
  const get = await rawCall(h.receiver, { ':method': 'GET' }, []);
  assert.equal(get.headers[':status'], 405);
  assert.equal(get.headers.allow, 'POST');
  for (const type of ['application/x-protobuf', 'application/grpc-web', 'text/plain']) {
    const answer = await rawCall(h.receiver, { 'content-type': type }, [frame(SAMPLE.traces())]);
    assert.equal(answer.headers[':status'], 415, type);
    assert.equal(answer.grpcStatus, undefined);
  }
  const json = await rawCall(h.receiver, { 'content-type': 'application/grpc+json' }, [frame(SAMPLE.traces())]);
  assert.equal(json.grpcStatus, status.UNIMPLEMENTED);
  const proto = await rawCall(h.receiver, { 'content-type': 'application/grpc+proto' }, [frame(SAMPLE.traces())]);
  assert.equal(proto.grpcStatus, status.OK);
  assert.equal(proto.trailers['grpc-status'], '0', 'status in trailers after the message');
  assert.deepEqual(proto.data, frame(new Uint8Array(0)), 'one empty length-prefixed response');
  assert.equal(h.received.length, 1);
});

test('malformed framing and encodings are refused as the gRPC spec says', async () => {
  const h = await start();
  const body = SAMPLE.traces();
  const cases: Array<[string, OutgoingHttpHeaders, Buffer[], number]> = [
    ['compressed flag without grpc-encoding', {}, [frame(gzipSync(body), true)], status.INTERNAL],
    ['compressed flag with identity', { 'grpc-encoding': 'identity' }, [frame(gzipSync(body), true)], status.INTERNAL],
    ['an encoding the server lacks', { 'grpc-encoding': 'snappy' }, [frame(body, true)], status.UNIMPLEMENTED],
    ['not gzip at all', { 'grpc-encoding': 'gzip' }, [frame(Buffer.from('not gzip'), true)], status.INTERNAL],
    ['an unknown compressed flag', {}, [frame(body).fill(2, 0, 1)], status.INTERNAL],
    ['two messages in a unary call', {}, [frame(body), frame(body)], status.INTERNAL],
    ['a message cut short', {}, [frame(body).subarray(0, 20)], status.INTERNAL],
    ['a prefix cut short', {}, [frame(body).subarray(0, 3)], status.INTERNAL],
    ['no message at all', {}, [], status.INTERNAL],
  ];
  for (const [name, headers, chunks, code] of cases) {
    const answer = await rawCall(h.receiver, headers, chunks);
    assert.equal(answer.grpcStatus, code, name);
    assert.equal(answer.headers['content-type'], 'application/grpc', name);
  }
  const snappy = await rawCall(h.receiver, { 'grpc-encoding': 'snappy' }, [frame(body, true)]);
  assert.match(String(snappy.headers['grpc-accept-encoding']), /\bgzip\b/);
  assert.equal(h.received.length, 0);
  // An uncompressed message is fine under any supported grpc-encoding, and split prefixes are reassembled.
  const split = frame(body);
  const ok = await rawCall(h.receiver, { 'grpc-encoding': 'gzip' }, [split.subarray(0, 2), split.subarray(2, 7), split.subarray(7)]);
  assert.equal(ok.grpcStatus, status.OK);
  assert.deepEqual(h.received[0].payload, Buffer.from(body));
});

test('a call left idle is closed with DEADLINE_EXCEEDED', async () => {
  const h = await start({ streamIdleTimeoutMs: 100 });
  const started = Date.now();
  const answer = await rawCall(h.receiver, {}, [frame(SAMPLE.traces()).subarray(0, 10)], false);
  assert.equal(answer.grpcStatus, status.DEADLINE_EXCEEDED);
  assert.ok(Date.now() - started >= 90);
  assert.equal(h.received.length, 0);
});

test('a call the client cancels during ingest is dropped quietly; the server serves on', async () => {
  const h = await start();
  const { inIngest, release } = holdIngest(h);
  const client = clientFor(h.receiver, 'traces');
  const cancelled = new Promise<ServiceError | null>((resolve) => {
    const call = client.Export(Buffer.from(SAMPLE.traces()), new Metadata(), (err) => resolve(err));
    void inIngest.then(() => call.cancel());
  });
  assert.equal((await cancelled)?.code, status.CANCELLED);
  release();
  await new Promise((r) => setTimeout(r, 20));
  h.next = async () => ({ accepted: 1, rejected: 0, message: '' });
  assert.equal((await exportCall(client, SAMPLE.traces())).err, null);
  assert.equal(h.logLines.join(''), '', 'nothing worth a warning');
});

test('an HTTP/1.1 request is dropped without bringing the server down', async () => {
  const h = await start();
  await assert.rejects(fetch(`${h.receiver.url}/v1/traces`, { method: 'POST', body: 'x' }));
  assert.equal((await exportCall(clientFor(h.receiver, 'traces'), SAMPLE.traces())).err, null);
});

test('bundled, the module pulls in neither grpc-js nor Fastify (the agent\'s memory budget)', async () => {
  const { build } = await import('esbuild');
  const result = await build({ entryPoints: [fileURLToPath(new URL('./otlp-grpc.ts', import.meta.url))], bundle: true, platform: 'node', format: 'esm', write: false, metafile: true, logLevel: 'silent' });
  const inputs = Object.keys(result.metafile.inputs);
  assert.ok(inputs.some((i) => i.endsWith('src/agent/otlp-grpc.ts')));
  assert.deepEqual(inputs.filter((i) => /@grpc|fastify|src\/gateway\/index\.ts/.test(i)), []);
});

test('a taken port rejects with EADDRINUSE', async () => {
  const h = await start();
  await assert.rejects(start({ port: h.receiver.port }), (err: NodeJS.ErrnoException) => err.code === 'EADDRINUSE');
});

test('maxRequestBytes must be a positive integer', async () => {
  await assert.rejects(start({ maxRequestBytes: 0 }), /maxRequestBytes: expected a positive integer/);
});

test('close() lets a call in progress answer, then stops; a later call finds nobody', async () => {
  const h = await start();
  const { inIngest, release } = holdIngest(h);
  const client = clientFor(h.receiver, 'traces');
  const answer = exportCall(client, SAMPLE.traces());
  await inIngest;
  let closed = false;
  const closing = h.receiver.close().then(() => (closed = true));
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(closed, false, 'close waits for the call in progress');
  release();
  assert.equal((await answer).err, null);
  await closing;
  const later = await exportCall(client, SAMPLE.traces());
  assert.equal(later.err?.code, status.UNAVAILABLE);
  assert.equal(h.received.length, 1);
});

test('close() cuts calls still open after drainTimeoutMs', async () => {
  let entered!: () => void;
  const inIngest = new Promise<void>((r) => (entered = r));
  const h = await start({ drainTimeoutMs: 100 });
  h.next = () => {
    entered();
    return new Promise(() => {});
  };
  const answer = exportCall(clientFor(h.receiver, 'logs'), SAMPLE.logs());
  await inIngest;
  const started = Date.now();
  await h.receiver.close();
  assert.ok(Date.now() - started < 2_000);
  const { err } = await answer;
  assert.ok(err && err.code !== status.OK, 'the cut call fails on the client');
  assert.match(h.logLines.join(''), /still open at shutdown/);
});
