/**
 * OTLP/HTTP fuzz requests, one per case number, each from its own seeded stream: mutated
 * protobuf and JSON bodies, gzip/deflate of mutated payloads and mutated compressed streams,
 * decompression bombs, wrong or odd Content-Types and Content-Encodings, truncated bodies,
 * Content-Lengths that lie, bad API keys, and one signal's body posted to another's path.
 */
import { deflateRawSync, deflateSync, gzipSync, zstdCompressSync } from 'node:zlib';
import { decodeRequest, requestToJson } from '../../src/otlp/index.ts';
import { OTLP_HTTP_PATHS, SIGNALS, type Signal } from '../../src/telemetry/signals.ts';
import { SEEDS, nestingCases, type Seed } from './fuzz-corpus.ts';
import { FUZZ_KEY } from './fuzz-http.ts';
import { jsonText, mutateJsonText, mutateJsonValue, vocabulary, type Json } from './fuzz-json.ts';
import { Random } from './fuzz-random.ts';
import { mutateProto } from './fuzz-wire.ts';

export interface HttpCase {
  label: string;
  url: string;
  headers: Record<string, string>;
  body: Uint8Array;
  /** The status this request must get, when the case determines it (else: 200 or any 4xx). */
  expect?: number;
}

const JSON_SEEDS = SEEDS.map((s) => ({ ...s, text: JSON.stringify(requestToJson(s.signal, decodeRequest(s.signal, s.bytes))) }));
const KEYS = vocabulary(JSON_SEEDS.map((s) => JSON.parse(s.text) as Json));
const PROTOBUF = 'application/x-protobuf';
const JSON_TYPE = 'application/json';

/** Content-Types the receiver must refuse (415) or read as one of its two encodings. */
const ODD_TYPES = [
  'text/plain',
  'application/octet-stream',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/grpc',
  'application/json; charset=utf-16',
  'APPLICATION/X-PROTOBUF',
  'application/protobuf',
  'application/x-protobuf; charset=binary',
  'application/json, application/x-protobuf',
  'application/jsonx',
  ';',
  `application/${'x'.repeat(2000)}`,
];

const ENCODINGS = ['gzip', 'x-gzip', 'GZIP', ' gzip ', 'deflate', 'zstd'];
const UNKNOWN_ENCODINGS = ['br', 'compress', 'gzip, gzip', 'gzip;q=1', 'identity, gzip', '*'];

/** Built on first use, then shared: they are the expensive inputs (megabytes of zeros, 10,000-deep nesting). */
const bombs = new Map<string, Uint8Array>();
const bomb = (encoding: string) => bombs.get(encoding) ?? bombs.set(encoding, compress(new Uint8Array(8 << 20), encoding)).get(encoding)!;
let deepCases: ReturnType<typeof nestingCases> | undefined;
const deep = (signal: Signal) => (deepCases ??= nestingCases([10_000])).filter((c) => c.signal === signal);

function auth(): Record<string, string> {
  return { authorization: `Bearer ${FUZZ_KEY}` };
}

function compress(body: Uint8Array, encoding: string): Uint8Array {
  const e = encoding.trim().toLowerCase();
  return e === 'deflate' ? deflateSync(body) : e === 'zstd' ? zstdCompressSync(body) : gzipSync(body);
}

function protoBody(rand: Random, seed: Seed): { body: Uint8Array; what: string } {
  if (rand.chance(0.15)) return { body: seed.bytes, what: 'valid' };
  const m = mutateProto(seed.bytes, rand);
  return { body: m.bytes, what: `mutated [${m.what.join(', ')}]` };
}

function jsonBody(rand: Random, seed: Seed): { body: Uint8Array; what: string } {
  const base = JSON_SEEDS.find((s) => s.label === seed.label)!.text;
  if (rand.chance(0.15)) return { body: Buffer.from(base), what: 'valid' };
  if (rand.chance(0.6)) {
    const m = mutateJsonValue(JSON.parse(base) as Json, rand, KEYS);
    return { body: Buffer.from(jsonText(m.value)), what: `JSON value [${m.what.join(', ')}]` };
  }
  const m = mutateJsonText(base, rand);
  return { body: Buffer.from(m.text), what: `JSON text [${m.what}]` };
}

/** One request per case number; the same number always gives the same request. */
export function httpCase(seedNo: number, caseNo: number): HttpCase {
  const rand = Random.forCase(seedNo, 'http', caseNo);
  const seed = SEEDS[caseNo % SEEDS.length];
  // One case in ten posts a signal's body to another signal's path.
  const signal: Signal = rand.chance(0.1) ? rand.pick(SIGNALS) : seed.signal;
  const url = OTLP_HTTP_PATHS[signal];
  const at = `${seed.label} to ${url}`;
  const kind = rand.next();

  if (kind < 0.3) {
    const b = protoBody(rand, seed);
    return { label: `protobuf ${at}, ${b.what}`, url, headers: { ...auth(), 'content-type': PROTOBUF }, body: b.body, expect: b.what === 'valid' && signal === seed.signal ? 200 : undefined };
  }
  if (kind < 0.5) {
    const b = jsonBody(rand, seed);
    return { label: `JSON ${at}, ${b.what}`, url, headers: { ...auth(), 'content-type': JSON_TYPE }, body: b.body, expect: b.what === 'valid' && signal === seed.signal ? 200 : undefined };
  }
  if (kind < 0.62) {
    // Valid compression of a (mutated) payload.
    const json = rand.chance(0.3);
    const b = json ? jsonBody(rand, seed) : protoBody(rand, seed);
    const encoding = rand.pick(ENCODINGS);
    return {
      label: `${json ? 'JSON' : 'protobuf'} ${at}, ${b.what}, ${encoding}`,
      url,
      headers: { ...auth(), 'content-type': json ? JSON_TYPE : PROTOBUF, 'content-encoding': encoding },
      body: compress(b.body, encoding),
      expect: b.what === 'valid' && signal === seed.signal ? 200 : undefined,
    };
  }
  if (kind < 0.76) return brokenCompression(rand, seed, url, at);
  if (kind < 0.83) {
    const type = rand.pick(ODD_TYPES);
    const b = rand.chance(0.5) ? protoBody(rand, seed) : jsonBody(rand, seed);
    return { label: `Content-Type '${type.slice(0, 60)}' ${at}, ${b.what}`, url, headers: { ...auth(), 'content-type': type }, body: b.body };
  }
  if (kind < 0.86) {
    const encoding = rand.pick(UNKNOWN_ENCODINGS);
    return { label: `Content-Encoding '${encoding}' ${at}`, url, headers: { ...auth(), 'content-type': PROTOBUF, 'content-encoding': encoding }, body: gzipSync(seed.bytes), expect: 415 };
  }
  if (kind < 0.93) {
    // Truncated: a valid body cut short (protobuf, JSON, or its gzip stream).
    const form = rand.int(3);
    const full = form === 1 ? Buffer.from(JSON_SEEDS.find((s) => s.label === seed.label)!.text) : form === 2 ? gzipSync(seed.bytes) : seed.bytes;
    const cut = rand.int(full.length);
    const headers: Record<string, string> = { ...auth(), 'content-type': form === 1 ? JSON_TYPE : PROTOBUF };
    if (form === 2) headers['content-encoding'] = 'gzip';
    return { label: `${['protobuf', 'JSON', 'gzip'][form]} ${at} truncated to ${cut} of ${full.length} bytes`, url, headers, body: full.subarray(0, cut) };
  }
  if (kind < 0.97) {
    // A Content-Length that lies about the body that follows.
    const claimed = rand.pick([0, 1, seed.bytes.length - 1, seed.bytes.length + 1, seed.bytes.length * 2 + 10]);
    return { label: `protobuf ${at} with Content-Length ${claimed} for ${seed.bytes.length} bytes`, url, headers: { ...auth(), 'content-type': PROTOBUF, 'content-length': String(Math.max(0, claimed)) }, body: seed.bytes };
  }
  const authorization = rand.pick([undefined, 'Bearer ', 'Bearer wrong-key', `bearer ${FUZZ_KEY}x`, `Basic ${FUZZ_KEY}`, `Bearer ${'k'.repeat(5000)}`]);
  const headers: Record<string, string> = { 'content-type': PROTOBUF };
  if (authorization !== undefined) headers.authorization = authorization;
  return { label: `protobuf ${at} with Authorization ${JSON.stringify(authorization?.slice(0, 40))}`, url, headers, body: seed.bytes, expect: 401 };
}

function brokenCompression(rand: Random, seed: Seed, url: string, at: string): HttpCase {
  const headers = (encoding: string) => ({ ...auth(), 'content-type': PROTOBUF, 'content-encoding': encoding });
  switch (rand.int(6)) {
    case 0:
    case 1: {
      // A mutated compressed stream: flips, truncation, junk (checksums and framing must catch it, or it inflates to junk).
      const encoding = rand.pick(ENCODINGS);
      const stream = Uint8Array.from(compress(seed.bytes, encoding));
      const edit = rand.int(3);
      let body: Uint8Array = stream;
      if (edit === 0) for (let k = rand.range(1, 3); k > 0; k--) stream[rand.int(stream.length)] ^= 1 << rand.int(8);
      else if (edit === 1) body = stream.subarray(0, rand.int(stream.length));
      else body = Buffer.concat([stream, rand.bytes(rand.range(1, 16))]);
      return { label: `${encoding} stream of ${at}, ${['bit flips', 'truncated', 'trailing junk'][edit]}`, url, headers: headers(encoding), body };
    }
    case 2: {
      // The wrong codec for the label: raw deflate or gzip sent as deflate, zlib sent as gzip, plain bytes as gzip.
      const [encoding, body, what] = rand.pick([
        ['deflate', deflateRawSync(seed.bytes), 'raw deflate'],
        ['deflate', gzipSync(seed.bytes), 'gzip'],
        ['gzip', deflateSync(seed.bytes), 'zlib'],
        ['gzip', seed.bytes, 'uncompressed bytes'],
        ['zstd', gzipSync(seed.bytes), 'gzip'],
      ] as const);
      return { label: `${what} labelled ${encoding}, ${at}`, url, headers: headers(encoding), body, expect: seed.bytes.length === 0 && what === 'uncompressed bytes' ? undefined : 400 };
    }
    case 3: {
      // A bomb: a few KiB that inflate past the limit must cost at most the limit.
      const encoding = rand.pick(ENCODINGS);
      return { label: `${encoding} bomb (8 MiB of zeros) to ${url}`, url, headers: headers(encoding), body: bomb(encoding), expect: 413 };
    }
    case 4: {
      // Two gzip members back to back (legal: they inflate to the concatenation, a valid request).
      const a = gzipSync(seed.bytes);
      const b = gzipSync(seed.bytes);
      return { label: `two gzip members of ${at}`, url, headers: headers('gzip'), body: Buffer.concat([a, b]), expect: url === OTLP_HTTP_PATHS[seed.signal] ? 200 : undefined };
    }
    default: {
      // Gzip of an AnyValue nested 10,000 levels deep: small on the wire, hostile inside.
      const c = rand.pick(deep(seed.signal));
      return { label: `gzip of ${c.signal} ${c.label} to ${url}`, url, headers: headers('gzip'), body: gzipSync(c.bytes) };
    }
  }
}
