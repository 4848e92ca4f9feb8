/**
 * What the validator passes must decode in storage exactly as the codec would: structure the
 * codec refuses (invalid UTF-8 in any string field, a known field with the wrong wire type, an
 * AnyValue past the codec's depth) rejects the item it is in, or everything a broken resource,
 * scope or metric holds; kept items stay byte for byte what was sent.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeRequest, type ExportRequest } from '../../otlp/index.ts';
import type { Signal } from '../../telemetry/signals.ts';
import { validateRequest } from './index.ts';
import { LIMITS, NOW_MS, deepKeyValue, encodeSpan, id, lenField, logRecord, logs, metrics, numberPoint, span, traces, tracesOfSpanBytes } from './testing.ts';

type Obj = Record<string, unknown>;

const MARK = 'BAD!';

/** The request with the one occurrence of MARK made invalid UTF-8 (a lone continuation byte), its length unchanged. */
function corrupt(bytes: Uint8Array): Buffer {
  const b = Buffer.from(bytes);
  const at = b.indexOf(MARK);
  assert.ok(at >= 0 && b.indexOf(MARK, at + 1) === -1, 'exactly one marker');
  b[at + 1] = 0x80;
  return b;
}

/** Names (spans, log bodies, metric:point) of a request's items, through the codec: throws if it does not decode. */
function itemsOf(signal: Signal, bytes: Uint8Array): string[] {
  const request = decodeRequest(signal, bytes) as ExportRequest;
  if (signal === 'traces') return (request as ExportRequest<'traces'>).resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans.map((s) => s.name ?? '')));
  if (signal === 'logs') return (request as ExportRequest<'logs'>).resourceLogs.flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords.map((l) => l.body!.stringValue!)));
  return (request as ExportRequest<'metrics'>).resourceMetrics.flatMap((rm) =>
    rm.scopeMetrics.flatMap((sm) => sm.metrics.flatMap((m) => m.gauge!.dataPoints.map((p) => `${m.name}:${p.asDouble}`))),
  );
}

/** Validates `bad`; checks the codec refuses it and the validator's output decodes with exactly `kept` items. */
function outcome(signal: Signal, bad: Uint8Array, kept: string[]): string {
  assert.throws(() => decodeRequest(signal, bad), 'the codec refuses the input');
  const r = validateRequest(signal, bad, LIMITS, NOW_MS);
  assert.deepEqual(itemsOf(signal, r.payload), kept);
  assert.equal(r.accepted, kept.length);
  return r.message;
}

const INVALID_UTF8 = /malformed \(byte \d+: invalid UTF-8 in a string field\)/;

test('invalid UTF-8 in any string field of a span rejects that span alone', () => {
  const long = (s: string) => s + 'x'.repeat(200); // a 2-byte length: the general walk, not the inline one
  const cases: Obj[] = [
    { name: MARK },
    { name: long(MARK) },
    { traceState: MARK },
    { events: [{ name: MARK }] },
    { links: [{ traceId: id(16, 1), spanId: id(8, 1), traceState: MARK }] },
    { status: { code: 2, message: MARK } },
    { attributes: [{ key: MARK, value: { stringValue: 'v' } }] },
    { attributes: [{ key: 'k', value: { stringValue: MARK } }] },
    { attributes: [{ key: MARK, value: { intValue: 300 } }] },
    { attributes: [{ key: MARK, value: { doubleValue: 1.5 } }] },
    { attributes: [{ key: 'k', value: { stringValue: long(MARK) } }] }, // too long: checked before it would be truncated
    { attributes: [{ key: 'k', value: { arrayValue: { values: [{ stringValue: MARK }] } } }] },
    { attributes: [{ key: 'k', value: { kvlistValue: { values: [{ key: MARK, value: { intValue: 1 } }] } } }] },
    { events: [{ name: 'e', attributes: [{ key: 'k', value: { stringValue: MARK } }] }] },
  ];
  for (const over of cases) {
    const label = JSON.stringify(over).slice(0, 120);
    const message = outcome('traces', corrupt(traces([span(1), span(2, over), span(3)])), ['op 1', 'op 3']);
    assert.match(message, new RegExp(`^rejected 1 span: 1 ${INVALID_UTF8.source}$`), label);
  }
});

test('invalid UTF-8 in a log record or a data point rejects it alone; in a metric\'s own fields, all its points', () => {
  for (const over of [{ severityText: MARK }, { eventName: MARK }, { body: { stringValue: MARK } }, { attributes: [{ key: 'k', value: { stringValue: MARK } }] }]) {
    const message = outcome('logs', corrupt(logs([logRecord(1), logRecord(2, over)])), ['line 1']);
    assert.match(message, new RegExp(`^rejected 1 log record: 1 ${INVALID_UTF8.source}$`), JSON.stringify(over));
  }
  const gauge = (name: string, ...points: Obj[]) => ({ name, gauge: { dataPoints: points } });
  const badPoint = numberPoint(2, { attributes: [{ key: MARK, value: { boolValue: true } }] });
  assert.match(outcome('metrics', corrupt(metrics([gauge('m', numberPoint(1), badPoint)])), ['m:1.5']), new RegExp(`^rejected 1 data point: 1 ${INVALID_UTF8.source}$`));
  for (const field of ['name', 'description', 'unit']) {
    const message = outcome('metrics', corrupt(metrics([{ ...gauge('bad', numberPoint(1), numberPoint(2)), [field]: MARK }, gauge('ok', numberPoint(3))])), ['ok:3.5']);
    assert.match(message, /^rejected 2 data points: 2 in a malformed metric \(byte \d+: invalid UTF-8 in a string field\)$/, field);
  }
});

test('invalid UTF-8 in a resource, a scope or a schema url rejects what they hold; another resource is kept', () => {
  const good = traces([span(9)]);
  const cases: Array<[Obj, Obj, RegExp]> = [
    [{ attributes: [{ key: 'service.name', value: { stringValue: MARK } }] }, {}, /in a malformed resource entry/],
    [{ entityRefs: [{ type: 'service', idKeys: [MARK] }] }, {}, /in a malformed resource entry/],
    [{}, { name: MARK }, /in a malformed scope entry/],
    [{}, { version: MARK }, /in a malformed scope entry/],
    [{}, { attributes: [{ key: MARK, value: { intValue: 1 } }] }, /in a malformed scope entry/],
  ];
  for (const [resource, scope, reason] of cases) {
    const bad = corrupt(traces([span(1), span(2)], resource, scope));
    const message = outcome('traces', Buffer.concat([bad, good]), ['op 9']);
    assert.match(message, new RegExp(`^rejected 2 spans: 2 ${reason.source} \\(byte \\d+: invalid UTF-8 in a string field\\)$`), JSON.stringify([resource, scope]));
  }
  const schemaUrls = Buffer.concat([lenField(1, Buffer.concat([lenField(2, lenField(2, encodeSpan(span(1)))), lenField(3, Buffer.from(MARK))])), good]);
  assert.match(outcome('traces', corrupt(schemaUrls), ['op 9']), /^rejected 1 span: 1 in a malformed resource entry/);
});

test('fields of the wrong wire type inside an attribute (the fuzzer\'s finds) reject the span; the others are kept', () => {
  const kv = (...bytes: number[]) => lenField(9, Uint8Array.from(bytes)); // Span.attributes
  const withAttr = (attr: Uint8Array) => tracesOfSpanBytes([encodeSpan(span(1)), Buffer.concat([encodeSpan(span(2)), attr]), encodeSpan(span(3))]);
  const cases: Array<[Uint8Array, RegExp]> = [
    [kv(0x0a, 0x01, 0x6b, 0x12, 0x02, 0x12, 0x00), /AnyValue field 2 has the wrong wire type 2/], // bool_value length-delimited
    [kv(0x0a, 0x01, 0x6b, 0x10, 0x01), /KeyValue field 2 has the wrong wire type 0/], // value as a varint
    [kv(0x08, 0x01), /KeyValue field 1 has the wrong wire type 0/], // key as a varint
    [kv(0x0a, 0x01, 0x6b, 0x12, 0x02, 0x19, 0x01), /wrong wire type 1|truncated 64-bit value/], // int_value as a fixed64, cut short
    [kv(0x0a, 0x01, 0x6b, 0x12, 0x03, 0x21, 0x00, 0x00), /truncated 64-bit value/], // a double of 2 bytes
    [kv(0x0a, 0x05, 0x6b), /length 5 exceeds/],
  ];
  for (const [attr, detail] of cases) {
    const message = outcome('traces', withAttr(attr), ['op 1', 'op 3']);
    assert.match(message, /^rejected 1 span: 1 malformed \(/, detail.source);
    assert.match(message, detail);
  }
});

test('an AnyValue past the codec\'s 32 levels in a resource or scope with no items is dropped too, so what remains decodes', () => {
  const deep = lenField(1, deepKeyValue('deep', 33)); // Resource.attributes / (as field 3) InstrumentationScope.attributes
  const kept = traces([span(1)]);
  const resourceOnly = lenField(1, lenField(1, deep)); // a resource entry with a resource and no scopes
  const scopeOnly = lenField(1, lenField(2, lenField(1, lenField(3, deepKeyValue('deep', 33))))); // a scope entry with a scope and no spans
  for (const bad of [resourceOnly, scopeOnly]) {
    const r = validateRequest('traces', Buffer.concat([bad, kept]), { ...LIMITS, maxAttributeDepth: 32 }, NOW_MS);
    assert.deepEqual({ accepted: r.accepted, rejected: r.rejected, message: r.message }, { accepted: 1, rejected: 0, message: '' });
    assert.deepEqual(itemsOf('traces', r.payload), ['op 1']);
    assert.deepEqual(Buffer.from(r.payload), Buffer.from(kept), 'the kept resource entry is byte for byte what was sent');
  }
  assert.throws(() => validateRequest('traces', kept, { ...LIMITS, maxAttributeDepth: 33 }, NOW_MS), /maxAttributeDepth must be an integer in 1\.\.32/);
});

test('a scope entry broken at its own level rejects the spans walked in it; a resource entry so broken, all of its own', () => {
  const spanField = lenField(2, encodeSpan(span(1)));
  const badTag = Uint8Array.from([0x0f]); // wire type 7 does not exist
  const kept = traces([span(9)]);
  const brokenScope = lenField(1, lenField(2, Buffer.concat([spanField, badTag])));
  assert.match(outcome('traces', Buffer.concat([brokenScope, kept]), ['op 9']), /^rejected 1 span: 1 in a malformed scope entry \(byte \d+: invalid wire type 7\)$/);
  const brokenEntry = lenField(1, Buffer.concat([lenField(2, spanField), badTag]));
  assert.match(outcome('traces', Buffer.concat([brokenEntry, kept]), ['op 9']), /^rejected 1 span: 1 in a malformed resource entry \(byte \d+: invalid wire type 7\)$/);
});

test('text is checked wherever a run of plain attributes sits in memory, every byte of every key and string', () => {
  const attributes = [
    { key: 'http.request.method', value: { stringValue: 'GET' } },
    { key: 'http.response.status_code', value: { intValue: 200 } },
    { key: 'url.path', value: { stringValue: '/api/items/42' } },
    { key: 'ratio', value: { doubleValue: 0.25 } },
    { key: 'naïve', value: { stringValue: 'ünïcödé ✓' } },
    { key: 'ok', value: { boolValue: true } },
  ];
  const valid = traces([span(1, { attributes })]);
  const texts = attributes.flatMap((a) => [a.key, a.value.stringValue].filter((t) => t !== undefined)).map((t) => Buffer.from(t));
  const ranges = texts.map((t) => [Buffer.from(valid).indexOf(t), t.length]);
  for (const [at] of ranges) assert.ok(at > 0);
  for (let shift = 0; shift < 4; shift++) {
    // The request at each offset from a 4-byte boundary (as a slice of a pooled Buffer would be).
    const placed = (bytes: Uint8Array) => {
      const host = new Uint8Array(bytes.length + 8);
      host.set(bytes, shift);
      return host.subarray(shift, shift + bytes.length);
    };
    const same = placed(valid);
    assert.equal(validateRequest('traces', same, LIMITS, NOW_MS).payload, same, `shift ${shift}: valid text, multi-byte included, passes as is`);
    for (const [at, length] of ranges) {
      for (let i = at; i < at + length; i++) {
        const bad = Buffer.from(valid);
        bad[i] = 0xff; // never valid in UTF-8
        const r = validateRequest('traces', placed(bad), LIMITS, NOW_MS);
        assert.match(r.message, INVALID_UTF8, `shift ${shift}, byte ${i}`);
        assert.equal(r.accepted, 0);
      }
    }
  }
});

test('varint lengths and tags of any width are read as the codec reads them', () => {
  // The span's name field with a 2-byte tag (0xaa 0x00 is field 5, wire type 2, padded) and an over-long length varint.
  const named = Buffer.concat([encodeSpan(span(1, { name: '' })), Uint8Array.from([0xaa, 0x00, 0x82, 0x00, 0x6f, 0x6b])]);
  const request = tracesOfSpanBytes([named]);
  assert.deepEqual(itemsOf('traces', request), ['ok']);
  const r = validateRequest('traces', request, LIMITS, NOW_MS);
  assert.deepEqual({ accepted: r.accepted, rejected: r.rejected }, { accepted: 1, rejected: 0 });
  assert.equal(r.payload, request);
});
