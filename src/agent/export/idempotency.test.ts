import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createBufferedExporter } from './index.ts';
import { FakeGateway, OK, logsBatch, waitFor } from './testing.ts';

const TIMEOUT = { timeout: 60_000 };
// What the gateway accepts (src/gateway/idempotency.ts).
const VALID_KEY = /^[A-Za-z0-9._:-]{1,128}$/;

test('a request retried after the agent timed out carries the same Idempotency-Key; other requests other keys', TIMEOUT, async () => {
  const gateway = new FakeGateway();
  await gateway.start();
  // The first attempt is stored but answered only after the agent gave up on it.
  gateway.answer = (_signal, attempt) => (attempt === 1 ? { status: 200, delayMs: 800 } : OK);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-idem-'));
  const exporter = await createBufferedExporter({ dir, endpoint: gateway.url, apiKey: 'k', timeoutMs: 200, backoffBaseMs: 20, backoffMaxMs: 50, log: () => {} });
  try {
    await exporter.consume(logsBatch(['a', 'b']));
    await waitFor('the retry delivered', () => gateway.received.length >= 2 && exporter.stats().bufferedBatches === 0);
    const [timedOut, retry] = gateway.received;
    assert.ok(exporter.stats().retries >= 1, 'the first attempt counted as failed');
    assert.deepEqual(retry.ids, timedOut.ids, 'the same request was sent again');
    assert.match(timedOut.idempotencyKey ?? '', VALID_KEY);
    assert.equal(retry.idempotencyKey, timedOut.idempotencyKey);

    await exporter.consume(logsBatch(['c']));
    await waitFor('the next request delivered', () => gateway.received.length >= 3);
    const next = gateway.received[2];
    assert.deepEqual(next.ids, ['c']);
    assert.match(next.idempotencyKey ?? '', VALID_KEY);
    assert.notEqual(next.idempotencyKey, timedOut.idempotencyKey);
  } finally {
    await exporter.stop();
    await gateway.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
