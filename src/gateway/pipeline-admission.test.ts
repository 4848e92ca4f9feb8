import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import type { Bus } from '../bus/index.ts';
import { createLogger, createRegistry } from '../selfobs/index.ts';
import { admissionOver, createLocalRateLimiter, type RateLimitsConfig } from './admission/index.ts';
import { traceExport } from './http-test-support.ts';
import { IngestError } from './ingest-error.ts';
import { createIngestPipeline } from './pipeline.ts';

const logger = createLogger('silent', new Writable({ write: (_c, _e, cb) => cb() }));

/** A bus that fails or acknowledges on demand; the pipeline only calls produce. */
function stubBus() {
  const state = { failing: false, produced: 0 };
  const bus = {
    produce: async () => {
      if (state.failing) throw new Error('bus down');
      state.produced++;
      return [];
    },
  } as unknown as Bus;
  return { bus, state };
}

/** Admission on a clock that does not move: only refunds can bring tokens back. */
function frozenAdmission(limits: RateLimitsConfig) {
  return admissionOver(createLocalRateLimiter(limits, () => 0), limits);
}

async function kindOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    assert.ok(err instanceof IngestError);
    return err.kind;
  }
}

test('bytes are checked before decoding: an over-limit garbage payload is throttled, not reported malformed', async () => {
  const limits: RateLimitsConfig = { default: { eventsPerSecond: 0, bytesPerSecond: 10, burstSeconds: 1 }, tenants: {} };
  const { bus } = stubBus();
  const pipeline = createIngestPipeline({ bus, logger, admission: frozenAdmission(limits) });
  await pipeline.ingest('t', 'traces', traceExport('svc', 1)); // a full bucket lets one through
  assert.equal(await kindOf(pipeline.ingest('t', 'traces', Buffer.from([0x0a, 0xff, 0xff]))), 'throttled');
});

test('a request refused by the events limit or by the bus gives its tokens back', async () => {
  const body = traceExport('svc', 4);
  const limits: RateLimitsConfig = { default: { eventsPerSecond: 6, bytesPerSecond: body.length * 2, burstSeconds: 1 }, tenants: {} };
  const { bus, state } = stubBus();
  const registry = createRegistry();
  const pipeline = createIngestPipeline({ bus, logger, admission: frozenAdmission(limits), registry });

  // The bus refuses: neither the 4 events nor the bytes are spent.
  state.failing = true;
  assert.equal(await kindOf(pipeline.ingest('t', 'traces', body)), 'unavailable');
  state.failing = false;
  assert.equal(await kindOf(pipeline.ingest('t', 'traces', body)), 'ok');
  // 2 events left: refused by the events limit, and its bytes come back...
  assert.equal(await kindOf(pipeline.ingest('t', 'traces', body)), 'throttled');
  // ...so a 2-event request still has the bytes of the second half of the burst.
  assert.equal(await kindOf(pipeline.ingest('t', 'traces', traceExport('svc', 2))), 'ok');
  assert.equal(state.produced, 2);

  const text = await registry.metrics();
  assert.match(text, /ollystack_gateway_tenant_items_total\{tenant="t",signal="traces",outcome="accepted"\} 6/);
  assert.match(text, /ollystack_gateway_tenant_items_total\{tenant="t",signal="traces",outcome="throttled"\} 4/);
});
