import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Line } from './line-splitter.ts';
import { RecordJoiner, type FileRecord } from './multiline.ts';

let offset = 0;
function line(text: string, truncated = false): Line {
  offset += Buffer.byteLength(text) + 1;
  return { text, bytes: Buffer.byteLength(text), truncated, endOffset: offset };
}

function pushAll(j: RecordJoiner, lines: Line[]): FileRecord[] {
  return lines.map((l) => j.push(l)).filter((r) => r !== undefined);
}

describe('multiline joiner', () => {
  test('without a start pattern every line is a record', () => {
    const j = new RecordJoiner(undefined, 100);
    const out = pushAll(j, [line('a'), line('b', true)]);
    assert.deepEqual(out.map((r) => [r.text, r.truncated]), [['a', false], ['b', true]]);
    assert.ok(!j.hasPending);
  });

  test('joins a Java stack trace to the line that started it', () => {
    offset = 0;
    const j = new RecordJoiner(/^\d{4}-\d{2}-\d{2} /, 10_000);
    const out = pushAll(j, [
      line('2025-01-15 12:00:00 ERROR request failed'),
      line('java.lang.IllegalStateException: boom'),
      line('\tat com.shop.Cart.add(Cart.java:42)'),
      line('\tat com.shop.Api.handle(Api.java:7)'),
      line('2025-01-15 12:00:01 INFO next'),
    ]);
    assert.equal(out.length, 1);
    assert.equal(out[0].text, '2025-01-15 12:00:00 ERROR request failed\njava.lang.IllegalStateException: boom\n\tat com.shop.Cart.add(Cart.java:42)\n\tat com.shop.Api.handle(Api.java:7)');
    assert.equal(out[0].endOffset, offset - Buffer.byteLength('2025-01-15 12:00:01 INFO next') - 1, 'the record ends where its last line ends');
    assert.ok(j.hasPending);
    const last = j.flush();
    assert.equal(last?.text, '2025-01-15 12:00:01 INFO next');
    assert.equal(last?.endOffset, offset);
  });

  test('a continuation with nothing before it starts a record of its own', () => {
    const j = new RecordJoiner(/^START/, 100);
    assert.equal(j.push(line('  orphan')), undefined);
    assert.equal(j.push(line('START x'))?.text, '  orphan');
  });

  test('caps a record at maxRecordBytes and marks it truncated', () => {
    const j = new RecordJoiner(/^S/, 20);
    pushAll(j, [line('S 123456789'), line('abcdefghijkl'), line('more')]);
    const r = j.flush()!;
    assert.equal(r.text, 'S 123456789\nabcdefgh');
    assert.equal(Buffer.byteLength(r.text), 20);
    assert.equal(r.truncated, true);
    assert.equal(r.endOffset, offset, 'the dropped lines are still consumed');
  });
});
