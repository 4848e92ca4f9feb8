import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { protobufHeaders, startTestReceiver, traceExport, type TestReceiver } from './http-test-support.ts';

let r: TestReceiver;

before(async () => {
  r = await startTestReceiver();
});

after(async () => {
  await r.close();
});

const post = (body: Uint8Array, key?: string) =>
  r.app.inject({ method: 'POST', url: '/v1/traces', payload: Buffer.from(body), headers: { ...protobufHeaders('tenant-a'), ...(key === undefined ? {} : { 'idempotency-key': key }) } });

test('a request sent again with its Idempotency-Key is answered 200 and stored once', async () => {
  const was = (await r.records()).length;
  const body = traceExport('idem-seq', 3);
  const first = await post(body, 'agent-1:0:10-12');
  const retry = await post(body, 'agent-1:0:10-12');
  assert.equal(first.statusCode, 200);
  assert.equal(retry.statusCode, 200);
  assert.deepEqual(retry.rawPayload, first.rawPayload);
  assert.equal((await r.records()).length - was, 1);
  assert.equal((await post(body, 'agent-1:0:13-15')).statusCode, 200);
  assert.equal((await r.records()).length - was, 2, 'another key is another request');
});

test('a retry arriving while the first is still being made durable waits for it and is not stored again', async () => {
  const was = (await r.records()).length;
  const body = traceExport('idem-concurrent', 2);
  const held = r.hold();
  const produced = r.nextProduce();
  const first = post(body, 'agent-1:0:20-20');
  await produced;
  const retry = post(body, 'agent-1:0:20-20');
  // Give the retry time to reach the pipeline while the bus still holds the first.
  await new Promise((resolve) => setTimeout(resolve, 50));
  held.release();
  assert.equal((await first).statusCode, 200);
  assert.equal((await retry).statusCode, 200);
  assert.equal((await r.records()).length - was, 1);
});

test('without a key a resent request is stored again; a malformed key is 400 naming the header', async () => {
  const was = (await r.records()).length;
  const body = traceExport('idem-none', 1);
  await post(body);
  await post(body);
  assert.equal((await r.records()).length - was, 2);
  const bad = await r.app.inject({ method: 'POST', url: '/v1/traces', payload: Buffer.from(body), headers: { ...protobufHeaders('tenant-a'), 'idempotency-key': 'no spaces allowed' } });
  assert.equal(bad.statusCode, 400);
  assert.match(bad.body, /Idempotency-Key/);
  assert.equal((await r.records()).length - was, 2);
});
