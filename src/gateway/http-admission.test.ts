import assert from 'node:assert/strict';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { test } from 'node:test';
import { createAdmission } from './admission/index.ts';
import { protobufHeaders, sample, startTestReceiver, traceExport } from './http-test-support.ts';

test('over a tenant rate limit: 429 with Retry-After and a message naming the limit; other tenants and the bus unaffected', async () => {
  const admission = await createAdmission({
    limits: {
      default: { eventsPerSecond: 0, bytesPerSecond: 0, burstSeconds: 1 },
      tenants: {
        // 10 events of burst, and a refill too slow (one per 10 s) for the test's pace to matter.
        'tenant-a': { eventsPerSecond: 0.1, bytesPerSecond: 0, burstSeconds: 100 },
        'tenant-c': { eventsPerSecond: 0, bytesPerSecond: 100, burstSeconds: 1 },
      },
    },
  });
  const r = await startTestReceiver({ admission });
  try {
    const post = (tenant: 'tenant-a' | 'tenant-b' | 'tenant-c', body: Uint8Array, json = false) =>
      r.app.inject({ method: 'POST', url: '/v1/traces', payload: Buffer.from(body), headers: { ...protobufHeaders(tenant), ...(json ? { 'content-type': 'application/json' } : {}) } });

    assert.equal((await post('tenant-a', traceExport('svc-ok', 8))).statusCode, 200);
    const over = await post('tenant-a', traceExport('svc-over', 5));
    assert.equal(over.statusCode, 429);
    assert.ok(Number(over.headers['retry-after']) >= 1, `Retry-After: ${over.headers['retry-after']}`);
    // The same refusal as OTLP/JSON, to read the message.
    const overJson = await post('tenant-a', Buffer.from(JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [{ name: 'a', traceId: '07070707070707070707070707070707', spanId: '0000000000000101' }, { name: 'b', traceId: '07070707070707070707070707070707', spanId: '0000000000000102' }, { name: 'c', traceId: '07070707070707070707070707070707', spanId: '0000000000000103' }] }] }] })), true);
    assert.equal(overJson.statusCode, 429);
    assert.match(JSON.parse(overJson.body).message, /tenant 'tenant-a' may send 0.1 events\/s \(gateway\.rateLimits eventsPerSecond/);
    assert.equal(JSON.parse(overJson.body).code, 8); // RESOURCE_EXHAUSTED

    // No limit for tenant-b.
    assert.equal((await post('tenant-b', traceExport('svc-b', 50))).statusCode, 200);

    // Bytes: a full bucket lets one request through even past the burst, then the debt is due.
    const big = traceExport('svc-bytes', 10, 20);
    assert.ok(big.length > 100);
    assert.equal((await post('tenant-c', big)).statusCode, 200);
    const bytesOver = await post('tenant-c', traceExport('svc-bytes', 1));
    assert.equal(bytesOver.statusCode, 429);
    // The debt (the request past the 100-byte burst) refills at 100 bytes/s first.
    assert.ok(Number(bytesOver.headers['retry-after']) >= Math.floor((big.length - 100) / 100), `Retry-After: ${bytesOver.headers['retry-after']}`);

    const services = (await r.records()).map((rec) => rec.key!.toString()).sort();
    assert.deepEqual(services, ['tenant-a/svc-ok', 'tenant-b/svc-b', 'tenant-c/svc-bytes']);

    const text = (await r.app.inject({ method: 'GET', url: '/metrics' })).body;
    assert.equal(sample(text, 'ollystack_gateway_tenant_items_total{tenant="tenant-a",signal="traces",outcome="accepted"}'), 8);
    assert.equal(sample(text, 'ollystack_gateway_tenant_items_total{tenant="tenant-a",signal="traces",outcome="throttled"}'), 8);
    assert.equal(sample(text, 'ollystack_gateway_tenant_items_total{tenant="tenant-b",signal="traces",outcome="accepted"}'), 50);
    assert.equal(sample(text, 'ollystack_gateway_throttled_requests_total{tenant="tenant-a",signal="traces",limit="events"}'), 2);
    assert.equal(sample(text, 'ollystack_gateway_throttled_requests_total{tenant="tenant-c",signal="traces",limit="bytes"}'), 1);
    // The names bench/run.ts and the end-to-end tests read are still there.
    assert.equal(sample(text, 'ollystack_gateway_received_items_total{signal="traces"}'), 68);
    assert.equal(sample(text, 'ollystack_gateway_requests_total{signal="traces",code="429"}'), 3);
  } finally {
    await r.close();
    await admission.close();
  }
});

interface Answer {
  status: number;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A POST over a real connection; `body` null = send the headers only and wait for the answer. */
function rawPost(port: number, headers: Record<string, string>, body: Buffer | Buffer[] | null): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method: 'POST', path: '/v1/traces', headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString() });
        req.destroy();
      });
    });
    req.on('error', reject);
    // A server waiting for a body that never comes would hang the test: fail it instead.
    req.setTimeout(10_000, () => req.destroy(new Error('no answer within 10 s')));
    if (body === null) req.flushHeaders();
    else {
      for (const chunk of Array.isArray(body) ? body : [body]) req.write(chunk);
      req.end();
    }
  });
}

test('past the in-flight byte budget: 503 with Retry-After at once, before the body is read; the budget frees when answered', async () => {
  const body = Buffer.from(traceExport('svc', 20, 40));
  // Room for one such request, not two.
  const r = await startTestReceiver({ maxInflightBytes: Math.floor(body.length * 1.5) });
  try {
    await r.app.listen({ host: '127.0.0.1', port: 0 });
    const port = (r.app.server.address() as { port: number }).port;
    const held = r.hold();
    const produced = r.nextProduce();
    const first = rawPost(port, { ...protobufHeaders('tenant-a'), 'content-length': String(body.length) }, body);
    await produced;

    let text = (await r.app.inject({ method: 'GET', url: '/metrics' })).body;
    assert.equal(sample(text, 'ollystack_gateway_inflight_bytes'), body.length);

    // Headers only: the answer comes although the body never does.
    const refused = await rawPost(port, { ...protobufHeaders('tenant-a'), 'content-length': String(body.length) }, null);
    assert.equal(refused.status, 503);
    assert.equal(refused.headers['retry-after'], '1');
    assert.match(refused.body, /in-flight request bytes \(gateway\.maxInflightBytes\)/);

    // Chunked, no Content-Length: refused at the chunk that does not fit.
    const chunked = await rawPost(port, { ...protobufHeaders('tenant-a'), 'transfer-encoding': 'chunked' }, [body.subarray(0, 100), body.subarray(100)]);
    assert.equal(chunked.status, 503);
    assert.equal(chunked.headers['retry-after'], '1');

    held.release();
    assert.equal((await first).status, 200);
    text = (await r.app.inject({ method: 'GET', url: '/metrics' })).body;
    assert.equal(sample(text, 'ollystack_gateway_inflight_bytes'), 0);
    assert.equal(sample(text, 'ollystack_gateway_requests_total{signal="traces",code="503"}'), 2);
    // Room again, chunked included.
    assert.equal((await rawPost(port, { ...protobufHeaders('tenant-a'), 'transfer-encoding': 'chunked' }, [body.subarray(0, 100), body.subarray(100)])).status, 200);
    assert.equal((await rawPost(port, { ...protobufHeaders('tenant-a'), 'content-length': String(body.length) }, body)).status, 200);
  } finally {
    await r.close();
  }
});
