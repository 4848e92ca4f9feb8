import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeRequest } from '../../otlp/index.ts';
import { TRUNCATION_MARKER, validateRequest } from './index.ts';
import { truncateUtf8 } from './truncate.ts';
import { LIMITS, NOW_MS, deepKeyValue, encodeSpan, lenField, logRecord, logs, span, spansOf, traces, tracesOfSpanBytes } from './testing.ts';

const utf8 = new TextDecoder('utf-8', { fatal: true });
const enc = new TextEncoder();

test('truncation never splits a character, keeps as much as fits, and marks the cut', () => {
  // 1-, 2-, 3- and 4-byte characters, so every cut position meets every boundary case.
  const text = 'aé€😀'.repeat(12);
  const bytes = enc.encode(text);
  for (let max = 16; max < bytes.length; max++) {
    const out = truncateUtf8(bytes, max);
    assert.ok(out.length <= max, `max ${max}: ${out.length} bytes`);
    const decoded = utf8.decode(out); // throws on a split character
    assert.ok(decoded.endsWith(TRUNCATION_MARKER));
    const kept = decoded.slice(0, -TRUNCATION_MARKER.length);
    assert.ok(text.startsWith(kept), `max ${max}: not a prefix`);
    // Maximal: the next whole character would not have fitted.
    const next = text.slice(kept.length).codePointAt(0)!;
    assert.ok(enc.encode(kept).length + enc.encode(String.fromCodePoint(next)).length + TRUNCATION_MARKER.length > max, `max ${max}: cut too short`);
  }
});

test('a string attribute value over the limit is truncated, not rejected; at the limit it is left alone', () => {
  const atLimit = traces([span(1, { attributes: [{ key: 'k', value: { stringValue: 'x'.repeat(64) } }] })]);
  const same = validateRequest('traces', atLimit, LIMITS, NOW_MS);
  assert.equal(same.payload, atLimit);

  const long = '€'.repeat(30); // 90 bytes
  const payload = traces([
    span(1, { attributes: [{ key: 'k', value: { stringValue: long } }, { key: 'n', value: { arrayValue: { values: [{ stringValue: long }, { intValue: 1 }] } } }] }),
    span(2),
  ]);
  const r = validateRequest('traces', payload, LIMITS, NOW_MS);
  assert.deepEqual({ accepted: r.accepted, rejected: r.rejected }, { accepted: 2, rejected: 0 });
  assert.equal(r.message, 'truncated 2 attribute values longer than 64 bytes');
  const [first, second] = spansOf(r.payload);
  const top = first.attributes[0].value!.stringValue!;
  const inArray = first.attributes[1].value!.arrayValue!.values[0].stringValue!;
  for (const v of [top, inArray]) {
    assert.equal(v, '€'.repeat(16) + TRUNCATION_MARKER); // 48 + 14 bytes: a 17th € would not fit in 64
  }
  assert.equal(first.attributes[1].value!.arrayValue!.values[1].intValue?.toString(), '1');
  assert.deepEqual(Buffer.from(encodeSpan(second as Record<string, unknown>)), Buffer.from(encodeSpan(span(2))));
});

test('resource attributes are truncated too; a log body is the record itself and is kept whole', () => {
  const long = 'y'.repeat(200);
  const payload = logs([logRecord(1, { body: { stringValue: long } })], { attributes: [{ key: 'service.name', value: { stringValue: 'svc' } }, { key: 'big', value: { stringValue: long } }] });
  const r = validateRequest('logs', payload, LIMITS, NOW_MS);
  const decoded = decodeRequest('logs', r.payload).resourceLogs[0];
  assert.equal(decoded.resource!.attributes[1].value!.stringValue, 'y'.repeat(50) + TRUNCATION_MARKER);
  assert.equal(decoded.scopeLogs[0].logRecords[0].body!.stringValue, long);
  assert.equal(r.message, 'truncated 1 attribute value longer than 64 bytes');
});

test('a truncation inside a rejected span is not made (or counted): the span is gone', () => {
  const r = validateRequest('traces', traces([span(1, { traceId: Buffer.alloc(0), attributes: [{ key: 'k', value: { stringValue: 'z'.repeat(100) } }] }), span(2)]), LIMITS, NOW_MS);
  assert.equal(r.message, 'rejected 1 span: 1 with an empty trace id');
});

test('an attribute nested 10,000 levels deep rejects its span without exhausting the stack', () => {
  const deepSpan = Buffer.concat([Buffer.from(encodeSpan(span(1))), lenField(9, deepKeyValue('deep', 10_000))]);
  const payload = tracesOfSpanBytes([deepSpan, encodeSpan(span(2))]);
  const r = validateRequest('traces', payload, LIMITS, NOW_MS);
  assert.equal(r.message, 'rejected 1 span: 1 with an attribute nested deeper than 4 levels');
  assert.deepEqual(
    spansOf(r.payload).map((s) => s.name),
    ['op 2'],
  );
});
