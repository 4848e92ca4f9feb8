import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { opentelemetry } from '../otlp/index.ts';
import { encodeStatusProto } from '../gateway/index.ts';
import { startFakeGateway, type FakeGateway } from './fake-gateway.ts';
import { OtlpHttpSender, errorText, parseRetryAfter } from '../otlp/index.ts';
import { decodeSpans, encodeTraces } from './test-helpers.ts';
import { Workload } from './workload.ts';

const START = Date.UTC(2025, 0, 15, 12, 0, 0);

function sampleTraces(): { bytes: Uint8Array; spans: number } {
  const w = new Workload({ seed: 4, startMs: START, rate: 20 }).window(START, START + 1000);
  return { bytes: encodeTraces(w.traces), spans: w.spanCount };
}

describe('OTLP/HTTP sender', { timeout: 20_000 }, () => {
  let gw: FakeGateway;
  before(async () => {
    gw = await startFakeGateway();
  });
  after(async () => {
    await gw.close();
  });

  test('posts gzip protobuf with the bearer key to /v1/<signal>', async () => {
    gw.requests.length = 0;
    const sender = new OtlpHttpSender({ endpoint: gw.endpoint + '/', apiKey: 'k-123' });
    const { bytes, spans } = sampleTraces();
    const r = await sender.send('traces', bytes);
    assert.deepEqual(r, { ok: true, status: 200, attempts: 1, aborted: false, rejected: 0 });
    assert.equal(gw.requests.length, 1);
    const req = gw.requests[0];
    assert.equal(req.method, 'POST');
    assert.equal(req.path, '/v1/traces');
    assert.equal(req.headers.authorization, 'Bearer k-123');
    assert.equal(req.headers['content-type'], 'application/x-protobuf');
    assert.equal(req.headers['content-encoding'], 'gzip');
    assert.ok(Buffer.from(bytes).equals(req.body), "the gateway gets the encoded request back after gunzip");
    assert.equal(decodeSpans(req.body).length, spans);
  });

  test('retries a 503 after the Retry-After delay and reports it', async () => {
    gw.requests.length = 0;
    gw.script.push({ status: 503, headers: { 'retry-after': '1', 'content-type': 'application/x-protobuf' }, body: encodeStatusProto(14, 'the ingestion bus is unavailable; retry later') });
    const lines: string[] = [];
    const sender = new OtlpHttpSender({ endpoint: gw.endpoint, apiKey: 'k', backoffMs: 10, log: (l) => lines.push(l) });
    const r = await sender.send('logs', new Uint8Array([1, 2, 3]));
    assert.equal(r.ok, true);
    assert.equal(r.attempts, 2);
    assert.equal(gw.requests.length, 2);
    const gap = gw.requests[1].atMs - gw.requests[0].atMs;
    assert.ok(gap >= 950, `second attempt came ${gap} ms after the first; Retry-After asked for 1 s`);
    assert.deepEqual(gw.requests[1].body, gw.requests[0].body);
    assert.equal(lines.length, 1);
    assert.match(lines[0], /^logs: HTTP 503 .*the ingestion bus is unavailable; retry later; retrying in 1\.0 s \(attempt 2 of 4\)$/);
  });

  test('does not retry a 401 and logs the status and the server message', async () => {
    gw.requests.length = 0;
    gw.script.push({ status: 401, headers: { 'content-type': 'application/x-protobuf' }, body: encodeStatusProto(16, 'unknown API key') });
    const lines: string[] = [];
    const sender = new OtlpHttpSender({ endpoint: gw.endpoint, apiKey: 'wrong', backoffMs: 10, log: (l) => lines.push(l) });
    const r = await sender.send('metrics', new Uint8Array([1]));
    assert.deepEqual(r, { ok: false, status: 401, attempts: 1, aborted: false, rejected: 0 });
    assert.equal(gw.requests.length, 1);
    assert.match(lines[0], /^metrics: HTTP 401 Unauthorized from http:\/\/127\.0\.0\.1:\d+\/v1\/metrics: unknown API key \(not retried\)$/);
  });

  test('gives up after maxRetries on a gateway that stays unavailable', async () => {
    gw.requests.length = 0;
    for (let i = 0; i < 3; i++) gw.script.push({ status: 502, body: 'bad gateway', headers: { 'content-type': 'text/plain' } });
    const lines: string[] = [];
    const sender = new OtlpHttpSender({ endpoint: gw.endpoint, apiKey: 'k', maxRetries: 2, backoffMs: 5, random: () => 0.5, log: (l) => lines.push(l) });
    const r = await sender.send('traces', new Uint8Array([1]));
    assert.equal(r.ok, false);
    assert.equal(r.status, 502);
    assert.equal(r.attempts, 3);
    assert.equal(gw.requests.length, 3);
    assert.match(lines.at(-1)!, /giving up after 3 attempts: HTTP 502 .*bad gateway/);
  });

  test('reports rejected items of a partial success', async () => {
    const body = opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse.encode({ partialSuccess: { rejectedSpans: 3, errorMessage: 'spans too old' } }).finish();
    gw.script.push({ status: 200, headers: { 'content-type': 'application/x-protobuf' }, body });
    const lines: string[] = [];
    const r = await new OtlpHttpSender({ endpoint: gw.endpoint, apiKey: 'k', log: (l) => lines.push(l) }).send('traces', new Uint8Array([1]));
    assert.equal(r.ok, true);
    assert.equal(r.rejected, 3);
    assert.match(lines[0], /rejected 3 items: spans too old/);
  });

  test('an abort during the backoff stops at once', async () => {
    gw.script.push({ status: 503, headers: { 'retry-after': '30' } });
    const controller = new AbortController();
    const sender = new OtlpHttpSender({ endpoint: gw.endpoint, apiKey: 'k', signal: controller.signal });
    const started = Date.now();
    setTimeout(() => controller.abort(), 100);
    const r = await sender.send('traces', new Uint8Array([1]));
    assert.equal(r.aborted, true);
    assert.equal(r.ok, false);
    assert.ok(Date.now() - started < 5000, 'did not wait out the 30 s Retry-After');
  });

  test('retries when nothing listens, then fails naming the cause', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const lines: string[] = [];
    const sender = new OtlpHttpSender({ endpoint: `http://127.0.0.1:${port}`, apiKey: 'k', maxRetries: 1, backoffMs: 5, log: (l) => lines.push(l) });
    const r = await sender.send('logs', new Uint8Array([1]));
    assert.deepEqual(r, { ok: false, status: null, attempts: 2, aborted: false, rejected: 0 });
    assert.match(lines.at(-1)!, /giving up after 2 attempts: request to .* failed: ECONNREFUSED/);
  });

  test('rejects a bad endpoint or a missing key, naming the field', () => {
    assert.throws(() => new OtlpHttpSender({ endpoint: 'localhost:4318', apiKey: 'k' }), /endpoint/);
    assert.throws(() => new OtlpHttpSender({ endpoint: 'not a url', apiKey: 'k' }), /endpoint/);
    assert.throws(() => new OtlpHttpSender({ endpoint: 'http://127.0.0.1:1', apiKey: '' }), /apiKey/);
    assert.throws(() => new OtlpHttpSender({ endpoint: 'http://127.0.0.1:1', apiKey: 'k', maxRetries: -1 }), /maxRetries/);
  });
});

describe('Retry-After and error bodies', () => {
  test('Retry-After takes seconds or an HTTP date', () => {
    const now = Date.UTC(2025, 0, 1, 0, 0, 0);
    assert.equal(parseRetryAfter('5', now), 5000);
    assert.equal(parseRetryAfter(new Date(now + 7000).toUTCString(), now), 7000);
    assert.equal(parseRetryAfter(new Date(now - 7000).toUTCString(), now), 0);
    assert.equal(parseRetryAfter('soon', now), null);
    assert.equal(parseRetryAfter(null, now), null);
  });

  test('error bodies: protobuf Status message, text as is, long text cut', () => {
    assert.equal(errorText('application/x-protobuf', encodeStatusProto(3, 'bad payload')), 'bad payload');
    assert.equal(errorText('application/json', Buffer.from('{"code":3,"message":"x"}')), '{"code":3,"message":"x"}');
    assert.equal(errorText(null, new Uint8Array()), '(empty body)');
    assert.equal(errorText('text/plain', Buffer.from('y'.repeat(2000))).length, 501);
  });
});
