import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LineSplitter, type Line } from './line-splitter.ts';

function feed(s: LineSplitter, chunks: (string | Buffer)[]): Line[] {
  const out: Line[] = [];
  let offset = 0;
  for (const c of chunks) {
    const buf = typeof c === 'string' ? Buffer.from(c) : c;
    out.push(...s.push(buf, offset));
    offset += buf.length;
  }
  return out;
}

describe('line splitter', () => {
  test('splits across chunks, strips \\r before \\n, and gives each line its end offset', () => {
    const s = new LineSplitter(1024);
    const lines = feed(s, ['one\r\ntw', 'o\n', '\nthr', 'ee']);
    assert.deepEqual(
      lines.map((l) => [l.text, l.endOffset, l.truncated]),
      [
        ['one', 5, false],
        ['two', 9, false],
        ['', 10, false],
      ],
    );
    assert.ok(s.hasPartial);
    assert.deepEqual(s.flush(15), { text: 'three', bytes: 5, truncated: false, endOffset: 15 });
    assert.ok(!s.hasPartial);
    assert.equal(s.flush(15), undefined);
  });

  test('does not copy-alias the reused read buffer', () => {
    const s = new LineSplitter(1024);
    const buf = Buffer.from('abc');
    assert.deepEqual([...s.push(buf, 0)], []);
    buf.write('XYZ');
    assert.equal([...s.push(Buffer.from('\n'), 3)][0].text, 'abc');
  });

  test('cuts a long line at the limit, skips the rest as it streams, and keeps the next line whole', () => {
    const s = new LineSplitter(16);
    const big = 'x'.repeat(40);
    const lines = feed(s, [big.slice(0, 10), big.slice(10, 30), big.slice(30) + '\nnext\n']);
    assert.equal(lines.length, 2);
    assert.deepEqual([lines[0].text, lines[0].truncated, lines[0].endOffset], ['x'.repeat(16), true, 41]);
    assert.deepEqual([lines[1].text, lines[1].truncated, lines[1].endOffset], ['next', false, 46]);
    assert.equal(s.counters.truncatedLines, 1);
    // Within one chunk too.
    const one = [...new LineSplitter(4).push(Buffer.from('abcdefgh\nij\n'), 0)];
    assert.deepEqual(one.map((l) => [l.text, l.truncated]), [['abcd', true], ['ij', false]]);
  });

  test('never cuts a multi-byte character in half', () => {
    const s = new LineSplitter(5);
    // 'aé€' is 1 + 2 + 3 bytes; 5 bytes would end inside the euro sign.
    const [line] = feed(s, ['aé€x\n']);
    assert.equal(line.text, 'aé');
    assert.equal(line.truncated, true);
    assert.equal(s.counters.decodeErrors, 0);
  });

  test('tolerates invalid UTF-8: replacement characters, counted, never a throw', () => {
    const s = new LineSplitter(100);
    const [line] = feed(s, [Buffer.from([0x66, 0xff, 0xfe, 0x67, 0x0a])]);
    assert.equal(line.text, 'f\uFFFD\uFFFDg');
    assert.equal(s.counters.decodeErrors, 1);
  });

  test('reset forgets an unfinished line', () => {
    const s = new LineSplitter(100);
    feed(s, ['partial']);
    s.reset();
    assert.deepEqual(feed(s, ['new\n']).map((l) => l.text), ['new']);
  });
});
