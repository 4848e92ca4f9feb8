import assert from 'node:assert/strict';
import { test } from 'node:test';
import $protobuf from 'protobufjs/minimal.js';
import { spanRequest } from '../../../bench/payloads.ts';
import { configSchema } from '../../config/index.ts';
import { decodeRequest, splitByResource } from '../../otlp/index.ts';
import { IngestError } from '../ingest-error.ts';
import { validateRequest } from './index.ts';
import { HOUR_MS, LIMITS, NOW_MS, attrs, encodeSpan, id, nanos, nested, span, spansOf, traces, tracesOfSpanBytes } from './testing.ts';

const check = (payload: Uint8Array, limits = LIMITS) => validateRequest('traces', payload, limits, NOW_MS);

/** Validates one bad span between two good ones: returns the message, after checking only the bad one went. */
function rejectsOne(bad: Record<string, unknown>, limits = LIMITS): string {
  const r = check(traces([span(1), span(2, bad), span(3)]), limits);
  assert.equal(r.rejected, 1, r.message);
  assert.equal(r.accepted, 2);
  assert.deepEqual(
    spansOf(r.payload).map((s) => s.name),
    ['op 1', 'op 3'],
  );
  return r.message;
}

function acceptsAll(over: Record<string, unknown>, limits = LIMITS): void {
  const payload = traces([span(1), span(2, over)]);
  const r = check(payload, limits);
  assert.equal(r.rejected, 0, r.message);
  assert.equal(r.accepted, 2);
  assert.equal(r.payload, payload, 'nothing changed: the same bytes go on');
}

test('a valid request comes back as the very same bytes, with nothing to report', () => {
  const defaults = configSchema.parse({}).gateway.limits;
  const bench = spanRequest(500, 3);
  const r = validateRequest('traces', bench, defaults, Date.now());
  assert.equal(r.payload, bench);
  assert.deepEqual({ accepted: r.accepted, rejected: r.rejected, message: r.message }, { accepted: 500, rejected: 0, message: '' });
});

test('neither path decodes through protobufjs: the fast path reads the wire, the slow one edits it', () => {
  const valid = traces([span(1), span(2)]);
  const mixed = traces([span(1), span(2, { traceId: Buffer.alloc(0) }), span(3, { attributes: [{ key: 'k', value: { stringValue: 'x'.repeat(100) } }] })]);
  decodeRequest('traces', valid); // protobufjs swaps Reader.create on first use; spy on the final one
  const original = $protobuf.Reader.create;
  let decodes = 0;
  $protobuf.Reader.create = ((buffer: Uint8Array) => {
    decodes++;
    return original(buffer);
  }) as typeof original;
  try {
    assert.equal(check(valid).payload, valid);
    assert.notEqual(check(mixed).payload, mixed);
    assert.equal(decodes, 0);
    decodeRequest('traces', valid);
    assert.ok(decodes > 0, 'the spy sees a protobufjs decode');
  } finally {
    $protobuf.Reader.create = original;
  }
});

test('attributes per span, event and link: the limit passes, one more rejects the span', () => {
  acceptsAll({ attributes: attrs(8) });
  assert.match(rejectsOne({ attributes: attrs(9) }), /^rejected 1 span: 1 with more than 8 attributes$/);
  acceptsAll({ events: [{ name: 'e', timeUnixNano: nanos(NOW_MS - 1000), attributes: attrs(8) }] });
  assert.match(rejectsOne({ events: [{ name: 'e', attributes: attrs(9) }] }), /with an event of more than 8 attributes/);
  acceptsAll({ links: [{ traceId: id(16, 1), spanId: id(8, 1), attributes: attrs(8) }] });
  assert.match(rejectsOne({ links: [{ traceId: id(16, 1), spanId: id(8, 1), attributes: attrs(9) }] }), /with a link of more than 8 attributes/);
});

test('events and links per span: the limit passes, one more rejects the span', () => {
  const events = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `e${i}` }));
  const links = (n: number) => Array.from({ length: n }, (_, i) => ({ traceId: id(16, i), spanId: id(8, i) }));
  acceptsAll({ events: events(3), links: links(2) });
  assert.match(rejectsOne({ events: events(4) }), /with more than 3 events/);
  assert.match(rejectsOne({ links: links(3) }), /with more than 2 links/);
});

test('attribute nesting: the limit passes (through arrays and maps), one level more rejects the span', () => {
  for (const via of ['array', 'map'] as const) {
    acceptsAll({ attributes: [{ key: 'deep', value: nested(4, via) }] });
    assert.match(rejectsOne({ attributes: [{ key: 'deep', value: nested(5, via) }] }), /with an attribute nested deeper than 4 levels/);
    assert.match(rejectsOne({ events: [{ name: 'e', attributes: [{ key: 'deep', value: nested(5, via) }] }] }), /nested deeper than 4 levels/);
  }
});

test('the smallest attribute that nests one level too deep is still inspected, whatever the depth limit', () => {
  // The tightest case: empty key, arrays down to an empty AnyValue (a few bytes per level).
  for (let depth = 1; depth <= 8; depth++) {
    let v: Record<string, unknown> = {};
    for (let d = 1; d <= depth; d++) v = { arrayValue: { values: [v] } };
    const limits = { ...LIMITS, maxAttributeDepth: depth };
    const r = check(traces([span(1, { attributes: [{ key: '', value: v }] })]), limits);
    assert.equal(r.rejected, 1, `depth limit ${depth}: ${r.message}`);
  }
});

test('trace and span ids: empty, wrong length or all zero rejects the span; a parent id must be 8 bytes when present', () => {
  assert.match(rejectsOne({ traceId: Buffer.alloc(0) }), /with an empty trace id/);
  assert.match(rejectsOne({ traceId: Buffer.alloc(16) }), /with an all-zero trace id/);
  assert.match(rejectsOne({ traceId: id(15, 1) }), /with a trace id that is not 16 bytes/);
  assert.match(rejectsOne({ traceId: id(17, 1) }), /with a trace id that is not 16 bytes/);
  assert.match(rejectsOne({ spanId: Buffer.alloc(0) }), /with an empty span id/);
  assert.match(rejectsOne({ spanId: Buffer.alloc(8) }), /with an all-zero span id/);
  assert.match(rejectsOne({ spanId: id(9, 1) }), /with a span id that is not 8 bytes/);
  assert.match(rejectsOne({ parentSpanId: id(7, 1) }), /with a parent span id that is not 8 bytes/);
  acceptsAll({ parentSpanId: id(8, 1), traceId: id(16, 99) });
});

test('timestamps: the window edges pass, a second beyond rejects the span', () => {
  const past = NOW_MS - 24 * HOUR_MS;
  const future = NOW_MS + 30 * 60_000;
  acceptsAll({ startTimeUnixNano: nanos(past), endTimeUnixNano: nanos(past + 1) });
  acceptsAll({ startTimeUnixNano: nanos(future - 1), endTimeUnixNano: nanos(future) });
  assert.match(rejectsOne({ startTimeUnixNano: nanos(past - 1000), endTimeUnixNano: nanos(NOW_MS - 1000) }), /timestamped 24 hours in the past \(limit 24 hours\)/);
  assert.match(rejectsOne({ startTimeUnixNano: nanos(NOW_MS - 1000), endTimeUnixNano: nanos(future + 1000) }), /timestamped 30 minutes in the future \(limit 30 minutes\)/);
  assert.match(rejectsOne({ startTimeUnixNano: '0' }), /with no start time/);
  assert.match(rejectsOne({ endTimeUnixNano: '0' }), /with no end time/);
});

test('a span ending before it starts is rejected; ending when it starts is fine', () => {
  assert.match(rejectsOne({ startTimeUnixNano: nanos(NOW_MS - 1000), endTimeUnixNano: nanos(NOW_MS - 2000) }), /with an end time before the start time/);
  acceptsAll({ startTimeUnixNano: nanos(NOW_MS - 1000), endTimeUnixNano: nanos(NOW_MS - 1000) });
});

test('the message sums up rejections by reason, most frequent first', () => {
  const r = check(
    traces([
      span(1, { traceId: Buffer.alloc(0) }),
      span(2),
      span(3, { startTimeUnixNano: nanos(NOW_MS - 9 * 24 * HOUR_MS), endTimeUnixNano: nanos(NOW_MS - 1000) }),
      span(4, { traceId: Buffer.alloc(0) }),
    ]),
  );
  assert.equal(r.message, 'rejected 3 spans: 2 with an empty trace id, 1 timestamped 9 days in the past (limit 24 hours)');
  assert.deepEqual({ accepted: r.accepted, rejected: r.rejected }, { accepted: 1, rejected: 3 });
});

test('kept spans are byte for byte what was sent', () => {
  const good = [span(1, { events: [{ name: 'e', attributes: attrs(3) }] }), span(3), span(5, { status: { code: 2, message: 'boom' } })];
  const payload = traces([good[0], span(2, { spanId: Buffer.alloc(0) }), good[1], span(4, { endTimeUnixNano: '0' }), good[2]]);
  const r = check(payload);
  assert.equal(r.rejected, 2);
  assert.deepEqual(
    spansOf(r.payload).map((s) => Buffer.from(encodeSpan(s as Record<string, unknown>))),
    good.map((s) => Buffer.from(encodeSpan(s))),
  );
});

test('a resource or scope breaking a limit rejects all of its spans; another resource in the request is kept', () => {
  const bad = traces([span(1), span(2)], { attributes: [{ key: 'service.name', value: { stringValue: 'bad' } }, ...attrs(8)] });
  const good = traces([span(3)]);
  const r = check(Buffer.concat([bad, good]));
  assert.equal(r.message, 'rejected 2 spans: 2 in a resource with more than 8 attributes');
  assert.deepEqual(splitByResource('traces', r.payload).map((p) => [p.serviceName, p.items]), [['svc', 1]]);

  const scoped = check(traces([span(1)], {}, { attributes: [{ key: 'deep', value: nested(5) }] }));
  assert.equal(scoped.message, 'rejected 1 span: 1 in a scope with an attribute nested deeper than 4 levels');
});

test('when every span is rejected nothing is left to route, and the outcome still counts them', () => {
  const r = check(traces([span(1, { traceId: Buffer.alloc(16) }), span(2, { spanId: Buffer.alloc(8) })]));
  assert.deepEqual({ accepted: r.accepted, rejected: r.rejected }, { accepted: 0, rejected: 2 });
  assert.deepEqual(splitByResource('traces', r.payload), []);
});

test('a request broken at its own level (a resource entry longer than the request) is refused whole as invalid', () => {
  const payload = traces([span(1), span(2)]);
  for (const broken of [payload.subarray(0, payload.length - 3), Buffer.from([0x0a, 0x05, 0x12, 0x03, 0x3a])]) {
    assert.throws(
      () => check(broken),
      (err: unknown) => err instanceof IngestError && err.kind === 'invalid' && /malformed OTLP payload/.test(err.message),
    );
  }
});

test('a span broken inside (its length intact) is rejected alone as malformed; the others are kept', () => {
  // A known span field with the wrong wire type (start_time_unix_nano as a varint).
  const wrongType = Buffer.concat([Buffer.from(encodeSpan(span(2))), Buffer.from([0x38, 0x01])]);
  const r = check(tracesOfSpanBytes([encodeSpan(span(1)), wrongType, encodeSpan(span(3))]));
  assert.match(r.message, /^rejected 1 span: 1 malformed \(byte \d+: Span field 7 has the wrong wire type 0\)$/);
  assert.deepEqual(
    spansOf(r.payload).map((s) => s.name),
    ['op 1', 'op 3'],
  );
});

test('edits re-frame long enclosing messages (multi-byte lengths shrink) and keep every valid span', () => {
  const list = Array.from({ length: 400 }, (_, i) =>
    span(i, { traceId: i % 7 === 3 ? Buffer.alloc(16) : id(16, 7), attributes: [...attrs(6), { key: 'long', value: { stringValue: 'é'.repeat(i % 5 === 0 ? 40 : 20) } }] }),
  );
  const payload = traces(list);
  assert.ok(payload.length > 16_384, 'enclosing lengths take three bytes');
  const r = check(payload);
  const expected = list.filter((_, i) => i % 7 !== 3);
  assert.equal(r.rejected, list.length - expected.length);
  const kept = spansOf(r.payload);
  assert.deepEqual(
    kept.map((s) => s.name),
    expected.map((s) => s.name),
  );
  const truncated = kept.filter((s) => s.attributes[6].value!.stringValue!.endsWith('...[truncated]')).length;
  assert.equal(truncated, expected.filter((s) => Number(String(s.name).slice(3)) % 5 === 0).length); // 'op <i>', i % 5 === 0
  assert.ok(truncated > 50);
  assert.match(r.message, new RegExp(`^rejected ${r.rejected} spans: ${r.rejected} with an all-zero trace id; truncated ${truncated} attribute values longer than 64 bytes$`));
});
