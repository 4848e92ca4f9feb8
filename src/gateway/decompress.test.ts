import assert from 'node:assert/strict';
import { test } from 'node:test';
import { constants, createZstdCompress, deflateSync, gzipSync, zstdCompressSync } from 'node:zlib';
import { BadEncodingError, PayloadTooLargeError, SUPPORTED_ENCODINGS, UnsupportedEncodingError, decodeContentEncoding } from './decompress.ts';

const LIMIT = 64 * 1024;
const text = Buffer.from('otlp '.repeat(1000));

const encoders: Array<[string, (b: Buffer) => Buffer]> = [
  ['gzip', gzipSync],
  ['deflate', deflateSync],
  ['zstd', zstdCompressSync],
];

test('this runtime decodes zstd (Node 24)', () => {
  assert.ok(SUPPORTED_ENCODINGS.includes('zstd'));
});

for (const [encoding, encode] of encoders) {
  test(`${encoding}: decoded under the limit, case and spaces ignored`, async () => {
    assert.deepEqual(await decodeContentEncoding(encode(text), ` ${encoding.toUpperCase()} `, LIMIT), text);
  });

  test(`${encoding}: a bomb is refused at the decompressed-size limit`, async () => {
    const bomb = encode(Buffer.alloc(LIMIT * 64));
    assert.ok(bomb.length < LIMIT / 8, `${encoding} bomb is small on the wire: ${bomb.length}`);
    await assert.rejects(decodeContentEncoding(bomb, encoding, LIMIT), (err: Error) => err instanceof PayloadTooLargeError && /exceeds the limit of 65536 bytes/.test(err.message));
    // Exactly at the limit is still fine.
    assert.equal((await decodeContentEncoding(encode(Buffer.alloc(LIMIT)), encoding, LIMIT)).length, LIMIT);
  });

  test(`${encoding}: bytes that are not ${encoding} are a bad encoding naming it`, async () => {
    await assert.rejects(decodeContentEncoding(Buffer.from('plain text, not compressed'), encoding, LIMIT), (err: Error) => err instanceof BadEncodingError && err.message.includes(`not valid ${encoding}`));
  });
}

test('zstd: a frame declaring a window far past the limit is refused before its window is allocated', async () => {
  // A streamed frame keeps the window it was told (128 MiB) whatever its content.
  const encoder = createZstdCompress({ params: { [constants.ZSTD_c_windowLog]: 27 } });
  const chunks: Buffer[] = [];
  encoder.on('data', (c: Buffer) => chunks.push(c));
  const ended = new Promise((resolve) => encoder.on('end', resolve));
  encoder.end(text);
  await ended;
  await assert.rejects(decodeContentEncoding(Buffer.concat(chunks), 'zstd', LIMIT), (err: Error) => err instanceof BadEncodingError && /too much memory/.test(err.message));
});

test('no encoding or identity passes the body through; an unknown one names what is accepted', async () => {
  assert.equal(await decodeContentEncoding(text, undefined, LIMIT), text);
  assert.equal(await decodeContentEncoding(text, 'identity', LIMIT), text);
  await assert.rejects(decodeContentEncoding(text, 'br', LIMIT), (err: Error) => err instanceof UnsupportedEncodingError && /'br': use gzip, deflate, zstd or none/.test(err.message));
});
