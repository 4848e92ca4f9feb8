import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { protobufHeaders, startTestReceiver, traceExport } from './http-test-support.ts';

function connectable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

test('close() drains: no new connections, the request in progress still gets its 200 once the bus acknowledges', async () => {
  // A timeout no test waits for: only the drain can explain close() resolving.
  const r = await startTestReceiver({ drainTimeoutMs: 120_000 });
  try {
    await r.app.listen({ host: '127.0.0.1', port: 0 });
    const port = (r.app.server.address() as { port: number }).port;
    const held = r.hold();
    const produced = r.nextProduce();
    const inFlight = fetch(`http://127.0.0.1:${port}/v1/traces`, { method: 'POST', headers: protobufHeaders('tenant-a'), body: Buffer.from(traceExport('draining', 3)) });
    await produced;

    let closed = false;
    const closing = r.app.close().then(() => {
      closed = true;
    });
    assert.equal(await connectable(port), false, 'a closing receiver takes no new connections');
    // Time enough for a close that did not wait to be done.
    await sleep(100);
    assert.equal(closed, false, 'close waits for the request in progress');

    held.release();
    const res = await inFlight;
    assert.equal(res.status, 200);
    // Its keep-alive connection is closed with the answer, so close() need not wait it out.
    assert.equal(res.headers.get('connection'), 'close');
    await closing;
    assert.deepEqual((await r.records()).map((rec) => rec.key!.toString()), ['tenant-a/draining']);
  } finally {
    await r.close();
  }
});

test('close() gives up on a bus that never answers after the drain timeout, cutting the connection (no 200)', async () => {
  const r = await startTestReceiver({ drainTimeoutMs: 200 });
  try {
    await r.app.listen({ host: '127.0.0.1', port: 0 });
    const port = (r.app.server.address() as { port: number }).port;
    r.hold(); // never released
    const produced = r.nextProduce();
    const inFlight = fetch(`http://127.0.0.1:${port}/v1/traces`, { method: 'POST', headers: protobufHeaders('tenant-a'), body: Buffer.from(traceExport('stuck', 1)) });
    await produced;
    await r.app.close();
    await assert.rejects(inFlight, /fetch failed/);
  } finally {
    await r.close();
  }
});
