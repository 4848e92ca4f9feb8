import assert from 'node:assert/strict';
import { test } from 'node:test';
import { JsonBytes } from './json-bytes.ts';
import { i64Text, nanosText, u64Text } from './numbers.ts';
import { TextRowSink } from './text-sink.ts';

const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function written(fill: (w: JsonBytes) => void, size = 16): string {
  const w = new JsonBytes(size);
  fill(w);
  return w.view().toString('utf8');
}

test('jsonString equals JSON.stringify for every ASCII byte and for random UTF-8 text', () => {
  for (let b = 0; b < 0x80; b++) {
    const src = Buffer.from([0x61, b, 0x62]);
    assert.equal(written((w) => w.jsonString(src, 0, 3)), JSON.stringify(src.toString('latin1')), `byte ${b}`);
  }
  const rand = seededRandom(7);
  const alphabet = ['a', '"', '\\', '\n', '\u0000', '\u001f', '\u007f', 'é', '\u2028', '😀', '中', ' '];
  for (let i = 0; i < 500; i++) {
    let s = '';
    for (let k = Math.floor(rand() * 40); k > 0; k--) s += alphabet[Math.floor(rand() * alphabet.length)];
    const src = Buffer.concat([Buffer.from([0xff]), Buffer.from(s, 'utf8'), Buffer.from([0xff])]);
    assert.equal(written((w) => w.jsonString(src, 1, src.length - 1)), JSON.stringify(s));
  }
});

test('jsonString rejects exactly what the fatal TextDecoder rejects', () => {
  const cases = [[0xc3, 0x28], [0xed, 0xa0, 0x80], [0xc0, 0xaf], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82], [0xef, 0xbb, 0xbf, 0x41], [0xf0, 0x9f, 0x98, 0x80], [0x80]];
  for (const bytes of cases) {
    const src = Buffer.from(bytes);
    let decoderOk = true;
    try {
      strict.decode(src);
    } catch {
      decoderOk = false;
    }
    const w = new JsonBytes(4);
    const before = w.pos;
    if (decoderOk) {
      w.jsonString(src, 0, src.length);
      assert.equal(w.view().toString('utf8'), JSON.stringify(strict.decode(src)));
    } else {
      assert.throws(() => w.jsonString(src, 0, src.length), /invalid UTF-8/, Buffer.from(bytes).toString('hex'));
      assert.equal(w.pos, before, 'a rejected string leaves the position where it was');
    }
  }
});

test('numbers, timestamps and hex match the string formatting, across buffer growth', () => {
  const rand = seededRandom(42);
  const w = new JsonBytes(8);
  let expected = '';
  for (let i = 0; i < 2000; i++) {
    // Mostly small halves, sometimes extreme ones.
    const hi = rand() < 0.3 ? [0, 1, 0x1fffff, 0x200000, 0x7fffffff, 0x80000000, 0xffffffff][i % 7] : Math.floor(rand() * 2 ** (rand() * 32)) >>> 0;
    const lo = Math.floor(rand() * 4294967296) >>> 0;
    w.u64(hi, lo);
    w.byte(0x20);
    w.i64(hi, lo);
    w.byte(0x20);
    w.nanos(hi, lo);
    w.byte(0x20);
    expected += `${u64Text(hi, lo)} ${i64Text(hi, lo)} ${nanosText(hi, lo)} `;
    // Cross-check the decimal text against BigInt.
    const v = (BigInt(hi) << 32n) | BigInt(lo);
    assert.equal(u64Text(hi, lo), v.toString());
  }
  const ints = [0, 7, -1, -2147483648, 2147483647, 4294967295, 2 ** 53 - 1];
  for (const n of ints) {
    w.int(n);
    w.byte(0x20);
    expected += `${n} `;
  }
  const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  w.hex(bytes, 0, 256);
  expected += bytes.toString('hex');
  assert.equal(w.view().toString('latin1'), expected);
});

test('quoteRegion turns written JSON into its JSON string literal', () => {
  const w = new JsonBytes(4);
  w.latin1('x');
  const start = w.pos;
  const inner = '{"a":["é\\n",1]}';
  w.utf8(inner);
  w.quoteRegion(start);
  assert.equal(w.view().toString('utf8'), 'x' + JSON.stringify(inner));
});

test('sink: rollback drops bytes and rows since begin(), entries() are cached until the next write', () => {
  const sink = new TextRowSink();
  const a = sink.table('a');
  sink.begin();
  a.latin1('{"x":1}\n');
  a.rows++;
  sink.begin();
  a.latin1('{"x":2}\n');
  a.rows++;
  const b = sink.table('b');
  b.latin1('{"y":1}\n');
  b.rows++;
  sink.rollback();
  assert.equal(sink.rowCount, 1);
  const entries = sink.entries();
  assert.deepEqual(entries.map(([t, body, n]) => [t, body.toString(), n]), [['a', '{"x":1}\n', 1]]);
  assert.equal(sink.entries(), entries);
  const b2 = sink.table('b');
  b2.utf8('{"y":"é"}\n');
  b2.rows++;
  assert.deepEqual(sink.entries().map(([t, body, n]) => [t, body.toString(), n]), [['a', '{"x":1}\n', 1], ['b', '{"y":"é"}\n', 1]]);
});
