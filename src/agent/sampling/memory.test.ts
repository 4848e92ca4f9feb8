/**
 * What holding spans and decisions costs. Held as decoded objects, the realistic spans below cost
 * ~4,100 bytes each (heap plus array buffers, as measured by this test before spans were held
 * encoded) and 100 000 decisions in a Map ~10.5 MB: the agent ran out of its 48 MB heap.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import v8 from 'node:v8';
import vm from 'node:vm';
import { decodeRequest, encodeRequest, int, msToNanos, str } from '../../otlp/index.ts';
import { DecisionCache } from './decision-cache.ts';
import type { Span } from './held-span.ts';
import { ALWAYS } from './randomness.ts';
import { Collector, FakeClock, START_MS, randomTraceId, seededRandom, testSampler } from './testing.ts';
import { traceKey } from './trace-buffer.ts';

function exposeGc(): () => void {
  const existing = (globalThis as { gc?: () => void }).gc;
  if (existing) return existing;
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
}
const gc = exposeGc();

/** Live bytes on the V8 heap plus in array buffers (where slabs and typed arrays live): both count toward RSS. */
function liveBytes(): number {
  gc();
  gc();
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

/** A server span as an instrumented HTTP service sends it: ten attributes and one event. */
function realisticSpan(traceId: Uint8Array, service: string, n: number, random: () => number): Span {
  const endMs = START_MS + n;
  return {
    traceId,
    spanId: randomTraceId(random).subarray(0, 8),
    parentSpanId: randomTraceId(random).subarray(8),
    name: 'GET /api/orders/{id}',
    kind: 2,
    startTimeUnixNano: msToNanos(endMs - 12.5),
    endTimeUnixNano: msToNanos(endMs),
    attributes: [
      str('http.request.method', 'GET'),
      str('http.route', '/api/orders/{id}'),
      int('http.response.status_code', 200),
      str('url.path', `/api/orders/${100_000 + n}`),
      str('url.scheme', 'https'),
      str('server.address', `${service}.shop.svc`),
      int('server.port', 8080),
      str('network.protocol.version', '1.1'),
      str('client.address', '10.0.3.17'),
      str('user_agent.original', 'shop-frontend/2.4.1'),
    ],
    events: [{ timeUnixNano: msToNanos(endMs - 5), name: 'cache.miss', attributes: [str('cache.key', `order:${100_000 + n}`)] }],
    status: { code: 1 },
  };
}

test('a held span costs a fraction of its decoded form', async (t) => {
  const SPANS = 20_000;
  const SPANS_PER_TRACE = 4;
  const SPANS_PER_BATCH = 100;
  const services = ['frontend', 'orders', 'payments', 'db'];
  const random = seededRandom(1);
  const clock = new FakeClock();
  const next = new Collector(clock);
  const sampler = testSampler(clock, next, { maxBufferedSpans: 1_000_000, decisionWaitMs: 3_600_000 });
  const traceIds = Array.from({ length: SPANS / SPANS_PER_TRACE }, () => randomTraceId(random));

  const before = liveBytes();
  for (let b = 0; b < SPANS / SPANS_PER_BATCH; b++) {
    const service = services[b % services.length];
    const spans: Span[] = [];
    for (let i = 0; i < SPANS_PER_BATCH; i++) {
      const n = b * SPANS_PER_BATCH + i;
      spans.push(realisticSpan(traceIds[n % traceIds.length], service, n, random));
    }
    const resource = { attributes: [str('service.name', service), str('service.version', '2.4.1'), str('host.name', 'node-7'), str('k8s.pod.name', `${service}-7d9f-abcde`)] };
    const request = { resourceSpans: [{ resource, scopeSpans: [{ scope: { name: '@opentelemetry/instrumentation-http', version: '0.57.0' }, spans }] }] };
    // As a receiver hands them on: decoded from the wire by protobufjs.
    const decoded = decodeRequest('traces', encodeRequest('traces', request));
    await sampler.consume({ signal: 'traces', request: decoded, items: SPANS_PER_BATCH });
  }
  const perSpan = (liveBytes() - before) / SPANS;
  t.diagnostic(`${perSpan.toFixed(0)} bytes per held span`);
  assert.equal(sampler.stats().bufferedSpans, SPANS);
  assert.equal(sampler.stats().bufferedTraces, traceIds.length);
  // Its encoding is ~455 bytes; the rest is a small object, its slot in its trace, and its trace's share.
  assert.ok(perSpan < 1000, `${perSpan.toFixed(0)} bytes per held span`);

  // Held that way, nothing was lost.
  await sampler.flush();
  assert.equal(next.emitted.length, SPANS);
  for (const { span, service } of [next.emitted[0], next.emitted.at(-1)!]) {
    assert.equal(span.attributes?.length, 11);
    assert.equal(span.events?.[0].attributes?.[0].key, 'cache.key');
    assert.ok(services.includes(service));
  }
  await sampler.stop();
});

test('100 000 remembered decisions cost a few MB', (t) => {
  const random = seededRandom(2);
  const before = liveBytes();
  const cache = new DecisionCache(100_000);
  for (let i = 0; i < 300_000; i++) cache.set(traceKey(randomTraceId(random)), i % 3 === 0 ? ALWAYS : null);
  const bytes = liveBytes() - before;
  t.diagnostic(`${(bytes / 1e6).toFixed(2)} MB for ${cache.size} decisions`);
  assert.ok(cache.size >= 75_000 && cache.size <= 100_000, `${cache.size} remembered`);
  assert.ok(bytes < 4e6, `${bytes} bytes`);
});
