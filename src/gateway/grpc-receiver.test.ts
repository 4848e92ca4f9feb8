import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, beforeEach, test } from 'node:test';
import { deflateSync, gzipSync } from 'node:zlib';
import { Metadata, credentials, makeGenericClientConstructor, status, type Client, type ServiceError } from '@grpc/grpc-js';
import type { Bus } from '../bus/index.ts';
import { opentelemetry } from '../otlp/index.ts';
import { createLogger, createRegistry, type Registry } from '../selfobs/index.ts';
import type { Signal } from '../telemetry/signals.ts';
import { StaticKeyResolver } from '../tenancy/index.ts';
import { createGrpcReceiver, createInflightBudget, IngestError, otlpServiceDefinition, type GrpcReceiver, type IngestPipeline, type IngestResult } from './index.ts';
import { RETRY_INFO_TYPE_URL, STATUS_DETAILS_KEY } from './grpc-status-body.ts';
import { retryInfoOf } from './grpc-status-testing.ts';
import { waitFor } from '../tenancy/testing/wait-for.ts';

const collector = opentelemetry.proto.collector;
const KEY_A = 'grpc-tenant-a-key-000000';
const KEY_B = 'grpc-tenant-b-key-000000';
const LIMIT = 256 * 1024;


interface Seen {
  tenant: string;
  signal: Signal;
  payload: Buffer;
}

/** The pipeline as the receiver sees it: records what came in and answers what `next` says. */
const seen: Seen[] = [];
let next: () => Promise<IngestResult>;
const fakePipeline: IngestPipeline = {
  ingest(tenant, signal, payload) {
    seen.push({ tenant, signal, payload: Buffer.from(payload) });
    return next();
  },
};

let registry: Registry;
let receiver: GrpcReceiver;
let address: string;
const clients: Client[] = [];
const quiet = createLogger('warn', new Writable({ write: (_c, _e, cb) => cb() }));

before(async () => {
  const keys = new StaticKeyResolver();
  keys.add(KEY_A, 'tenant-a');
  keys.add(KEY_B, 'tenant-b');
  registry = createRegistry();
  receiver = createGrpcReceiver({ pipeline: fakePipeline, keys, logger: quiet, registry, maxRequestBytes: LIMIT });
  address = `127.0.0.1:${await receiver.listen({ host: '127.0.0.1', port: 0 })}`;
});

after(async () => {
  for (const c of clients) c.close();
  await receiver.close();
});

beforeEach(() => {
  seen.length = 0;
  next = async () => ({ accepted: 1, rejected: 0, message: '' });
});

const SERVICE_NAMES: Record<Signal, string> = { traces: 'TraceService', metrics: 'MetricsService', logs: 'LogsService' };

type ExportClient = Client & { Export(body: Buffer, metadata: Metadata, callback: (err: ServiceError | null, response?: Buffer) => void): void };

function clientFor(signal: Signal, compression: 'none' | 'gzip' | 'deflate' = 'none', target = address): ExportClient {
  const Ctor = makeGenericClientConstructor(otlpServiceDefinition(signal), SERVICE_NAMES[signal]);
  const algorithm = { none: 0, deflate: 1, gzip: 2 }[compression];
  const client = new Ctor(target, credentials.createInsecure(), { 'grpc.default_compression_algorithm': algorithm, 'grpc.max_send_message_length': -1 });
  clients.push(client);
  return client as unknown as ExportClient;
}

interface Answer {
  err: ServiceError | null;
  response?: Buffer;
}

function exportCall(client: ExportClient, body: Uint8Array, key: string | null = KEY_A, idempotencyKey?: string): Promise<Answer> {
  const metadata = new Metadata();
  if (key !== null) metadata.set('authorization', `Bearer ${key}`);
  if (idempotencyKey !== undefined) metadata.set('idempotency-key', idempotencyKey);
  return new Promise((resolve) => client.Export(Buffer.from(body), metadata, (err, response) => resolve({ err, response })));
}

function traceRequest(service: string, spans = 2): Uint8Array {
  return collector.trace.v1.ExportTraceServiceRequest.encode({
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
        scopeSpans: [{ spans: Array.from({ length: spans }, (_, i) => ({ traceId: Buffer.alloc(16, 7), spanId: Buffer.from([0, 0, 0, 0, 0, 0, 1, i]), name: `op${i}` })) }],
      },
    ],
  }).finish();
}

test('an export reaches the pipeline byte for byte, with the tenant of its key and the signal of its service', async () => {
  const body = traceRequest('checkout');
  const traces = await exportCall(clientFor('traces'), body, KEY_A);
  assert.equal(traces.err, null);
  assert.equal(traces.response!.length, 0, 'full success is an empty ExportTraceServiceResponse');
  const logs = await exportCall(clientFor('logs'), Buffer.from('logs-bytes'), KEY_B);
  assert.equal(logs.err, null);
  const metrics = await exportCall(clientFor('metrics'), Buffer.from('metrics-bytes'), KEY_A);
  assert.equal(metrics.err, null);
  assert.deepEqual(seen, [
    { tenant: 'tenant-a', signal: 'traces', payload: Buffer.from(body) },
    { tenant: 'tenant-b', signal: 'logs', payload: Buffer.from('logs-bytes') },
    { tenant: 'tenant-a', signal: 'metrics', payload: Buffer.from('metrics-bytes') },
  ]);
});

test('gzip- and deflate-compressed messages arrive decompressed', async () => {
  const body = traceRequest('gzipped', 50);
  assert.equal((await exportCall(clientFor('traces', 'gzip'), body)).err, null);
  assert.equal((await exportCall(clientFor('traces', 'deflate'), body)).err, null);
  assert.equal(seen.length, 2);
  assert.deepEqual(seen[0].payload, Buffer.from(body));
  assert.deepEqual(seen[1].payload, Buffer.from(body));
});

test('a partial success reaches the client as the signal\'s Export*ServiceResponse', async () => {
  next = async () => ({ accepted: 5, rejected: 3, message: '3 spans had no trace id' });
  const t = await exportCall(clientFor('traces'), traceRequest('partial'));
  assert.equal(t.err, null);
  const traces = collector.trace.v1.ExportTraceServiceResponse.decode(t.response!);
  assert.equal(Number(traces.partialSuccess!.rejectedSpans), 3);
  assert.equal(traces.partialSuccess!.errorMessage, '3 spans had no trace id');
  next = async () => ({ accepted: 0, rejected: 2, message: 'bad records' });
  const l = await exportCall(clientFor('logs'), Buffer.from('x'));
  assert.equal(Number(collector.logs.v1.ExportLogsServiceResponse.decode(l.response!).partialSuccess!.rejectedLogRecords), 2);
});

test('a missing or unknown key is UNAUTHENTICATED and nothing reaches the pipeline', async () => {
  const missing = await exportCall(clientFor('traces'), traceRequest('x'), null);
  assert.equal(missing.err?.code, status.UNAUTHENTICATED);
  assert.match(missing.err!.details, /missing API key: send the metadata authorization: Bearer <key>/);
  const unknown = await exportCall(clientFor('logs'), traceRequest('x'), 'not-a-known-key-00000');
  assert.equal(unknown.err?.code, status.UNAUTHENTICATED);
  assert.equal(unknown.err!.details, 'unknown API key');
  const malformed = new Metadata();
  malformed.set('authorization', `Basic ${KEY_A}`);
  const basic = await new Promise<ServiceError | null>((resolve) => clientFor('metrics').Export(Buffer.from('x'), malformed, (err) => resolve(err)));
  assert.equal(basic?.code, status.UNAUTHENTICATED);
  // A large compressed body with an unknown key is refused from the headers alone.
  const big = await exportCall(clientFor('traces', 'gzip'), Buffer.alloc(LIMIT - 1, 1), 'not-a-known-key-00000');
  assert.equal(big.err?.code, status.UNAUTHENTICATED);
  assert.equal(seen.length, 0);
});


test('throttled is RESOURCE_EXHAUSTED with a RetryInfo in grpc-status-details-bin', async () => {
  next = () => Promise.reject(new IngestError('throttled', 'tenant tenant-a is over its ingest rate', 7));
  const { err } = await exportCall(clientFor('traces'), traceRequest('x'));
  assert.equal(err?.code, status.RESOURCE_EXHAUSTED);
  assert.equal(err!.details, 'tenant tenant-a is over its ingest rate');
  assert.deepEqual(retryInfoOf(err!), { code: status.RESOURCE_EXHAUSTED, message: 'tenant tenant-a is over its ingest rate', typeUrl: RETRY_INFO_TYPE_URL, seconds: 7, nanos: 0 });
});

test('unavailable is UNAVAILABLE with a RetryInfo, fractions of a second as nanos', async () => {
  next = () => Promise.reject(new IngestError('unavailable', 'the ingestion bus is unavailable; retry later', 2.5));
  const { err } = await exportCall(clientFor('metrics'), Buffer.from('x'));
  assert.equal(err?.code, status.UNAVAILABLE);
  assert.deepEqual(retryInfoOf(err!), { code: status.UNAVAILABLE, message: 'the ingestion bus is unavailable; retry later', typeUrl: RETRY_INFO_TYPE_URL, seconds: 2, nanos: 500_000_000 });
});

test('a refusal the client must not retry carries no RetryInfo; an unexpected failure is INTERNAL without its details', async () => {
  next = () => Promise.reject(new IngestError('invalid', 'malformed OTLP payload: truncated'));
  const invalid = await exportCall(clientFor('traces'), Buffer.from('x'));
  assert.equal(invalid.err?.code, status.INVALID_ARGUMENT);
  assert.equal(invalid.err!.details, 'malformed OTLP payload: truncated');
  assert.equal(invalid.err!.metadata.get(STATUS_DETAILS_KEY).length, 0);
  next = () => Promise.reject(new Error('secret internals'));
  const internal = await exportCall(clientFor('traces'), Buffer.from('x'));
  assert.equal(internal.err?.code, status.INTERNAL);
  assert.equal(internal.err!.details, 'internal error');
});

test('a message over maxRequestBytes is refused from its length prefix with RESOURCE_EXHAUSTED, before the pipeline', async () => {
  const { err } = await exportCall(clientFor('traces'), Buffer.alloc(LIMIT + 1, 1));
  assert.equal(err?.code, status.RESOURCE_EXHAUSTED);
  assert.match(err!.details, new RegExp(`Received message larger than max \\(${LIMIT + 1} vs ${LIMIT}\\)`));
  assert.equal(err!.metadata.get(STATUS_DETAILS_KEY).length, 0, 'no RetryInfo: OTLP clients do not retry it');
  // Exactly at the limit is still taken.
  assert.equal((await exportCall(clientFor('traces'), Buffer.alloc(LIMIT, 1))).err, null);
  assert.equal(seen.length, 1);
});

test('a gzip or deflate bomb (small compressed, huge inflated) is refused at the decompressed limit', async () => {
  // The clients compress the 64 MiB message to ~64 KiB, well within the limit as sent.
  const bomb = Buffer.alloc(64 * 1024 * 1024);
  assert.ok(gzipSync(bomb).length < LIMIT && deflateSync(bomb).length < LIMIT);
  for (const compression of ['gzip', 'deflate'] as const) {
    const { err } = await exportCall(clientFor('traces', compression), bomb);
    assert.equal(err?.code, status.RESOURCE_EXHAUSTED, compression);
    assert.match(err!.details, new RegExp(`Received message that decompresses to a size larger than ${LIMIT}`));
  }
  assert.equal(seen.length, 0);
});

test('close() lets an export in flight answer, then stops; a later call finds nobody', async () => {
  const keys = new StaticKeyResolver();
  keys.add(KEY_A, 'tenant-a');
  let release!: () => void;
  let entered!: () => void;
  const inPipeline = new Promise<void>((r) => (entered = r));
  const slow: IngestPipeline = {
    ingest: () => {
      entered();
      return new Promise((r) => (release = () => r({ accepted: 1, rejected: 0, message: '' })));
    },
  };
  const own = createGrpcReceiver({ pipeline: slow, keys, logger: quiet, registry: createRegistry(), maxRequestBytes: LIMIT });
  const target = `127.0.0.1:${await own.listen({ host: '127.0.0.1', port: 0 })}`;
  const client = clientFor('traces', 'none', target);
  const answer = exportCall(client, Buffer.from('x'));
  await inPipeline;
  let closed = false;
  const closing = own.close().then(() => (closed = true));
  await new Promise((r) => setImmediate(r));
  assert.equal(closed, false, 'close waits for the call in flight');
  release();
  assert.equal((await answer).err, null);
  await closing;
  const later = await exportCall(client, Buffer.from('x'));
  assert.equal(later.err?.code, status.UNAVAILABLE);
});

test('close() cuts calls still open after shutdownTimeoutMs', async () => {
  const keys = new StaticKeyResolver();
  keys.add(KEY_A, 'tenant-a');
  let entered!: () => void;
  const inPipeline = new Promise<void>((r) => (entered = r));
  const stuck: IngestPipeline = {
    ingest: () => {
      entered();
      return new Promise(() => {});
    },
  };
  const own = createGrpcReceiver({ pipeline: stuck, keys, logger: quiet, registry: createRegistry(), maxRequestBytes: LIMIT, shutdownTimeoutMs: 100 });
  const target = `127.0.0.1:${await own.listen({ host: '127.0.0.1', port: 0 })}`;
  const answer = exportCall(clientFor('logs', 'none', target), Buffer.from('x'));
  await inPipeline;
  await own.close();
  const { err } = await answer;
  assert.ok(err && err.code !== status.OK, 'the cut call fails on the client');
});

test('calls are counted by signal and gRPC code', async () => {
  const was = await counts();
  await exportCall(clientFor('traces'), traceRequest('counted'));
  await exportCall(clientFor('traces'), traceRequest('counted'), null);
  next = () => Promise.reject(new IngestError('throttled', 'slow down', 1));
  await exportCall(clientFor('logs'), Buffer.from('x'));
  const now = await counts();
  assert.equal((now['traces/OK'] ?? 0) - (was['traces/OK'] ?? 0), 1);
  assert.equal((now['traces/UNAUTHENTICATED'] ?? 0) - (was['traces/UNAUTHENTICATED'] ?? 0), 1);
  assert.equal((now['logs/RESOURCE_EXHAUSTED'] ?? 0) - (was['logs/RESOURCE_EXHAUSTED'] ?? 0), 1);
});

async function counts(): Promise<Record<string, number>> {
  const metric = await registry.getSingleMetric('ollystack_gateway_grpc_requests_total')!.get();
  return Object.fromEntries(metric.values.map((v) => [`${v.labels.signal}/${v.labels.code}`, v.value]));
}

test('options are checked, naming the field', () => {
  const keys = new StaticKeyResolver();
  assert.throws(() => createGrpcReceiver({ pipeline: fakePipeline, keys, logger: quiet, registry: createRegistry(), maxRequestBytes: 0 }), /maxRequestBytes: expected a positive integer/);
  assert.throws(() => createGrpcReceiver({ keys, logger: quiet, registry: createRegistry(), maxRequestBytes: 1 }), /pass pipeline or bus/);
});

test('the in-flight budget: a call that does not fit is UNAVAILABLE with RetryInfo at once, and every way a call ends gives its bytes back', async () => {
  const keys = new StaticKeyResolver();
  keys.add(KEY_A, 'tenant-a');
  const inflight = createInflightBudget(1500);
  let release: (() => void) | undefined;
  let entered!: () => void;
  const inIngest = new Promise<void>((r) => (entered = r));
  const holding: IngestPipeline = {
    ingest: () => {
      entered();
      return new Promise((r) => (release = () => r({ accepted: 1, rejected: 0, message: '' })));
    },
  };
  const own = createGrpcReceiver({ pipeline: holding, keys, inflight, logger: quiet, registry: createRegistry(), maxRequestBytes: LIMIT });
  const target = `127.0.0.1:${await own.listen({ host: '127.0.0.1', port: 0 })}`;
  try {
    const held = exportCall(clientFor('traces', 'none', target), Buffer.alloc(1000, 1));
    await inIngest;
    assert.equal(inflight.inUse(), 1000, 'the held call keeps its message reserved');

    const refused = await exportCall(clientFor('traces', 'none', target), Buffer.alloc(1000, 2));
    assert.equal(refused.err?.code, status.UNAVAILABLE);
    assert.ok(retryInfoOf(refused.err!).seconds > 0, 'with a RetryInfo to come back later');
    assert.equal(inflight.inUse(), 1000, 'the refused call holds nothing');

    release!();
    assert.equal((await held).err, null);
    await waitFor('the in-flight bytes come back', () => inflight.inUse() === 0);
    // A message over the limit is refused from its prefix and holds nothing either.
    const big = await exportCall(clientFor('traces', 'none', target), Buffer.alloc(LIMIT + 1, 3));
    assert.equal(big.err?.code, status.RESOURCE_EXHAUSTED);
    await waitFor('the refused message holds nothing', () => inflight.inUse() === 0);
  } finally {
    release?.();
    await own.close();
  }
});

test('an export sent again with its idempotency-key metadata is stored once, both calls OK', async () => {
  const keys = new StaticKeyResolver();
  keys.add(KEY_A, 'tenant-a');
  const produced: Array<{ topic: string; records: number }> = [];
  // Only produce is reached by the ingest pipeline: a bus that counts what it was given.
  const countingBus = {
    produce: async (topic: string, records: unknown[]) => {
      produced.push({ topic, records: records.length });
    },
  } as unknown as Bus;
  const own = createGrpcReceiver({ bus: countingBus, keys, logger: quiet, registry: createRegistry(), maxRequestBytes: LIMIT });
  const target = `127.0.0.1:${await own.listen({ host: '127.0.0.1', port: 0 })}`;
  try {
    const body = traceRequest('idempotent');
    const first = await exportCall(clientFor('traces', 'none', target), body, KEY_A, 'agent-1:0:5-9');
    const retry = await exportCall(clientFor('traces', 'gzip', target), body, KEY_A, 'agent-1:0:5-9');
    assert.equal(first.err, null);
    assert.equal(retry.err, null);
    assert.deepEqual(produced, [{ topic: 'traces', records: 1 }]);
    await exportCall(clientFor('traces', 'none', target), body, KEY_A, 'agent-1:0:10-14');
    assert.equal(produced.length, 2, 'another key is another export');
    const bad = await exportCall(clientFor('traces', 'none', target), body, KEY_A, 'not/valid');
    assert.equal(bad.err?.code, status.INVALID_ARGUMENT);
    assert.match(bad.err!.details, /Idempotency-Key/);
    assert.equal(produced.length, 2);
  } finally {
    await own.close();
  }
});
