import assert from 'node:assert/strict';
import { test } from 'node:test';
import { requestToJson, str } from '../../otlp/index.ts';
import { buildTraceRequest } from './build-request.ts';
import { encodeSpan } from './encoding.ts';
import { HeldSpan, type Span } from './held-span.ts';
import { ADJUSTED_COUNT_ATTRIBUTE } from './mark.ts';
import { OriginTable } from './origins.ts';
import { ALWAYS, thresholdFor } from './randomness.ts';
import { SLAB_BYTES, SlabStore } from './slabs.ts';
import { makeSpan, randomTraceId, seededRandom } from './testing.ts';

const origins = new OriginTable();
const web = origins.scope(origins.resource({ attributes: [str('service.name', 'web')] }, 'r'), { name: 'http' }, 's');
const db = origins.scope(origins.resource({ attributes: [str('service.name', 'db')] }, 'r'), { name: 'sql' }, 's');

function hold(store: SlabStore, origin: HeldSpan['origin'], span: Span, threshold = ALWAYS): HeldSpan {
  const held = new HeldSpan(origin);
  store.put(held, encodeSpan(span));
  held.threshold = threshold;
  return held;
}

test('spans come back whole, marked, grouped by resource and scope in arrival order', () => {
  const store = new SlabStore();
  const random = seededRandom(1);
  const span = makeSpan({ traceId: randomTraceId(random), name: 'full', error: true, traceState: 'vendor=x' });
  span.parentSpanId = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
  span.events = [{ name: 'retry', attributes: [str('attempt', '2')] }];
  span.links = [{ traceId: randomTraceId(random), spanId: Uint8Array.from([8, 7, 6, 5, 4, 3, 2, 1]) }];
  span.attributes = [...(span.attributes ?? []), { key: ADJUSTED_COUNT_ATTRIBUTE, value: { doubleValue: 99 } }];
  const half = thresholdFor(0.5);
  const held = [hold(store, web, span, half), hold(store, db, makeSpan({ traceId: randomTraceId(random), name: 'db' })), hold(store, web, makeSpan({ traceId: randomTraceId(random), name: 'web2' }))];

  const request = buildTraceRequest(held);
  assert.deepEqual(
    request.resourceSpans?.map((rs) => [rs.resource?.attributes?.[0].value?.stringValue, rs.schemaUrl, rs.scopeSpans?.map((ss) => [ss.scope?.name, ss.schemaUrl, ss.spans?.map((s) => s.name)])]),
    [
      ['web', 'r', [['http', 's', ['full', 'web2']]]],
      ['db', 'r', [['sql', 's', ['db']]]],
    ],
  );
  const out = request.resourceSpans?.[0].scopeSpans?.[0].spans?.[0] as Span;
  const expected: Span = { ...span, traceState: `ot=th:8,vendor=x`, attributes: [str('http.route', '/x'), { key: ADJUSTED_COUNT_ATTRIBUTE, value: { doubleValue: 2 } }] };
  // Compared as OTLP/JSON: one side is a decoded message, the other a plain object.
  const json = (s: Span) => requestToJson('traces', { resourceSpans: [{ scopeSpans: [{ spans: [s] }] }] });
  assert.deepEqual(json(out), json(expected));
});

test("decoded ids point into the batch's own copy, not into the sampler's slabs", () => {
  const store = new SlabStore();
  const held = hold(store, web, makeSpan({ traceId: randomTraceId(seededRandom(2)) }));
  const span = buildTraceRequest([held]).resourceSpans?.[0].scopeSpans?.[0].spans?.[0] as Span;
  const id = span.traceId as Uint8Array;
  assert.equal(id.length, 16);
  assert.ok(id.buffer.byteLength < SLAB_BYTES, 'the id pins a slab');
  assert.notEqual(id.buffer, held.slab.buffer);
});

test('a lone surrogate from JSON input becomes U+FFFD instead of making the span undecodable', () => {
  const store = new SlabStore();
  const span = makeSpan({ traceId: randomTraceId(seededRandom(3)), name: 'a\ud800b' });
  span.attributes = [str('k', 'x\udc00')];
  const out = buildTraceRequest([hold(store, web, span)]).resourceSpans?.[0].scopeSpans?.[0].spans?.[0] as Span;
  assert.match(out.name ?? '', /^a\ufffd+b$/);
  assert.match(out.attributes?.[0].value?.stringValue ?? '', /^x\ufffd+$/);
});

test('an empty batch (a checkpoint alone) builds an empty request', () => {
  assert.deepEqual(buildTraceRequest([]), { resourceSpans: [] });
});
