import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, test } from 'node:test';
import { gzipSync, zstdCompressSync } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { createEmbeddedBus, type Bus, type ConsumedRecord } from '../bus/index.ts';
import { decodeRequest, opentelemetry, requestToJson } from '../otlp/index.ts';
import { createLogger, createRegistry } from '../selfobs/index.ts';
import { StaticKeyResolver } from '../tenancy/index.ts';
import { createHttpReceiver } from './index.ts';

const Trace = opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
const KEY_A = 'tenant-a-key-0000000000';
const KEY_B = 'tenant-b-key-0000000000';
const LIMIT = 64 * 1024;

let dir: string;
let bus: Bus;
let failing = false;
let app: FastifyInstance;

function request(services: Array<[string, number]>, extraResource: Record<string, string> = {}) {
  return Trace.fromObject({
    resourceSpans: services.map(([service, spans]) => ({
      resource: {
        attributes: [
          { key: 'service.name', value: { stringValue: service } },
          ...Object.entries(extraResource).map(([key, v]) => ({ key, value: { stringValue: v } })),
        ],
      },
      scopeSpans: [
        {
          spans: Array.from({ length: spans }, (_, i) => ({
            traceId: Buffer.alloc(16, 7),
            spanId: Buffer.from([0, 0, 0, 0, 0, 0, 1, i]),
            name: `op${i}`,
            startTimeUnixNano: '1700000000000000000',
            endTimeUnixNano: '1700000000001000000',
          })),
        },
      ],
    })),
  });
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'olly-gw-'));
  const real = await createEmbeddedBus({ dir, defaultPartitions: 2 });
  await real.ensureTopics([
    { name: 'traces', partitions: 2, retentionMs: 3_600_000 },
    { name: 'logs', partitions: 2, retentionMs: 3_600_000 },
    { name: 'metrics', partitions: 2, retentionMs: 3_600_000 },
  ]);
  // The same bus, with a switch that makes produce fail as a bus that is down would.
  bus = Object.create(real, {
    produce: { value: (topic: string, records: any) => (failing ? Promise.reject(new Error('bus down')) : real.produce(topic, records)) },
    close: { value: () => real.close() },
  });
  const keys = new StaticKeyResolver();
  keys.add(KEY_A, 'tenant-a');
  keys.add(KEY_B, 'tenant-b');
  const logger = createLogger('silent', new Writable({ write: (_c, _e, cb) => cb() }));
  app = createHttpReceiver({ bus, keys, logger, registry: createRegistry(), maxRequestBytes: LIMIT });
  await app.ready();
});

after(async () => {
  await app.close();
  await bus.close();
  rmSync(dir, { recursive: true, force: true });
});

async function drain(groupId: string): Promise<ConsumedRecord[]> {
  const consumer = bus.consumer({ groupId, topics: ['traces'] });
  const all: ConsumedRecord[] = [];
  for (;;) {
    const got = await consumer.poll({ maxRecords: 1000, maxWaitMs: 200 });
    if (got.length === 0) break;
    all.push(...got);
    await consumer.commit(got.map((r) => ({ topic: r.topic, partition: r.partition, offset: r.offset + 1 })));
  }
  await consumer.close();
  return all;
}

function post(body: Buffer | Uint8Array | string, headers: Record<string, string>, path = '/v1/traces') {
  return app.inject({ method: 'POST', url: path, payload: Buffer.from(body as Uint8Array), headers });
}

test('protobuf export is split per service, keyed by tenant and service, tenant from the key only', async () => {
  const body = Trace.encode(request([['checkout', 3], ['payments', 2]], { 'tenant.id': 'tenant-b' })).finish();
  const res = await post(body, { authorization: `Bearer ${KEY_A}`, 'content-type': 'application/x-protobuf' });
  assert.equal(res.statusCode, 200, res.body);
  assert.equal(res.headers['content-type'], 'application/x-protobuf');
  const records = await drain('t1');
  assert.equal(records.length, 2);
  const byKey = new Map(records.map((r) => [r.key!.toString(), r]));
  assert.deepEqual([...byKey.keys()].sort(), ['tenant-a/checkout', 'tenant-a/payments']);
  for (const r of records) {
    assert.equal(r.headers.tenant, 'tenant-a');
    assert.equal(r.headers.signal, 'traces');
  }
  const checkout = decodeRequest('traces', byKey.get('tenant-a/checkout')!.value);
  assert.equal(checkout.resourceSpans.length, 1);
  assert.equal(checkout.resourceSpans[0].scopeSpans[0].spans.length, 3);
  assert.equal(byKey.get('tenant-a/checkout')!.headers.items, '3');
});

test('OTLP/JSON and gzip are accepted and reach the bus as protobuf', async () => {
  const json = JSON.stringify(requestToJson('traces', request([['json-svc', 2]])));
  const res = await post(gzipSync(json), { authorization: `Bearer ${KEY_B}`, 'content-type': 'application/json', 'content-encoding': 'gzip' });
  assert.equal(res.statusCode, 200, res.body);
  assert.match(String(res.headers['content-type']), /^application\/json/);
  assert.deepEqual(JSON.parse(res.body), {});
  const records = await drain('t2');
  const mine = records.filter((r) => r.key!.toString() === 'tenant-b/json-svc');
  assert.equal(mine.length, 1);
  const decoded = decodeRequest('traces', mine[0].value);
  assert.equal(decoded.resourceSpans[0].scopeSpans[0].spans[1].name, 'op1');
});

test('bad input gets a clear status and message', async () => {
  const pb = { authorization: `Bearer ${KEY_A}`, 'content-type': 'application/x-protobuf' };
  const noKey = await post(Buffer.alloc(0), { 'content-type': 'application/x-protobuf' });
  assert.equal(noKey.statusCode, 401);
  assert.match(noKey.body, /missing API key/);
  assert.equal((await post(Buffer.alloc(0), { ...pb, authorization: 'Bearer nope-nope-nope-nope' })).statusCode, 401);

  const malformed = await post(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f, 1, 2]), pb);
  assert.equal(malformed.statusCode, 400);
  assert.match(malformed.body, /malformed OTLP payload/);

  const badJson = await post('{"resourceSpans": [', { ...pb, 'content-type': 'application/json' });
  assert.equal(badJson.statusCode, 400);
  assert.match(JSON.parse(badJson.body).message, /not valid JSON/);

  const wrongType = await post('hello', { ...pb, 'content-type': 'text/plain' });
  assert.equal(wrongType.statusCode, 415);
  assert.match(wrongType.body, /unsupported Content-Type/);

  const big = await post(Buffer.alloc(LIMIT + 1), pb);
  assert.equal(big.statusCode, 413);

  // A gzip bomb: small on the wire, far over the limit once inflated.
  const bomb = gzipSync(Buffer.alloc(LIMIT * 64));
  assert.ok(bomb.length < LIMIT);
  const bombed = await post(bomb, { ...pb, 'content-encoding': 'gzip' });
  assert.equal(bombed.statusCode, 413);
  assert.match(bombed.body, /decompressed body exceeds/);

  const notGzip = await post(Buffer.from('plain'), { ...pb, 'content-encoding': 'gzip' });
  assert.equal(notGzip.statusCode, 400);
  const br = await post(Buffer.from('x'), { ...pb, 'content-encoding': 'br' });
  assert.equal(br.statusCode, 415);
});

test('503 with Retry-After when the bus cannot acknowledge, and nothing is claimed accepted', async () => {
  failing = true;
  try {
    const body = Trace.encode(request([['down', 1]])).finish();
    const res = await post(body, { authorization: `Bearer ${KEY_A}`, 'content-type': 'application/x-protobuf' });
    assert.equal(res.statusCode, 503);
    assert.ok(Number(res.headers['retry-after']) > 0);
  } finally {
    failing = false;
  }
  const res = await post(Trace.encode(request([['up-again', 1]])).finish(), { authorization: `Bearer ${KEY_A}`, 'content-type': 'application/x-protobuf' });
  assert.equal(res.statusCode, 200);
  const keys = (await drain('t3')).map((r) => r.key!.toString());
  assert.ok(!keys.includes('tenant-a/down'));
  assert.ok(keys.includes('tenant-a/up-again'));
});

test('an empty export is acknowledged without touching the bus', async () => {
  const res = await post(Buffer.alloc(0), { authorization: `Bearer ${KEY_A}`, 'content-type': 'application/x-protobuf' });
  assert.equal(res.statusCode, 200);
});

test('zstd bodies are accepted, and a zstd bomb is refused at the decompressed-size limit', async () => {
  const pb = { authorization: `Bearer ${KEY_A}`, 'content-type': 'application/x-protobuf', 'content-encoding': 'zstd' };
  const ok = await post(zstdCompressSync(Trace.encode(request([['zstd-svc', 2]])).finish()), pb);
  assert.equal(ok.statusCode, 200, ok.body);
  assert.ok((await drain('t-zstd')).some((r) => r.key!.toString() === 'tenant-a/zstd-svc'));

  const bomb = zstdCompressSync(Buffer.alloc(LIMIT * 64));
  assert.ok(bomb.length < LIMIT);
  const bombed = await post(bomb, pb);
  assert.equal(bombed.statusCode, 413);
  assert.match(bombed.body, /decompressed body exceeds the limit/);
});
