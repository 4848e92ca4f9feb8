/**
 * OTLP/gRPC under fuzz, over raw HTTP/2 so the framing itself can be broken: the 5-byte message
 * prefix (compressed flag, length) can lie, messages can be missing, doubled or compressed with
 * the wrong codec. One request per case number, from its own seeded stream.
 */
import { connect, type ClientHttp2Session, type IncomingHttpHeaders } from 'node:http2';
import { deflateSync, gzipSync } from 'node:zlib';
import { OTLP_GRPC_PATHS } from '../../src/gateway/index.ts';
import { SIGNALS, type Signal } from '../../src/telemetry/signals.ts';
import { SEEDS } from './fuzz-corpus.ts';
import { FUZZ_KEY } from './fuzz-http.ts';
import { Random } from './fuzz-random.ts';
import { mutateProto } from './fuzz-wire.ts';

export interface GrpcCase {
  label: string;
  path: string;
  headers: Record<string, string>;
  body: Uint8Array;
  /**
   * 'framed': one well-formed message (any compression correctly labelled), so the answer must
   * come from the receiver: OK, INVALID_ARGUMENT, RESOURCE_EXHAUSTED or UNAUTHENTICATED.
   * 'broken': the gRPC framing or compression is wrong, so grpc-js's own refusals are fine too.
   */
  framing: 'framed' | 'broken';
  /** The grpc-status this request must get, when the case determines it. */
  expect?: number;
}

export interface GrpcAnswer {
  httpStatus: number | undefined;
  grpcStatus: number | undefined;
  grpcMessage: string;
}

/** The 5-byte gRPC message prefix (compressed flag, big-endian length) and the message. */
export function grpcFrame(message: Uint8Array, flag = 0, length = message.length): Buffer {
  const head = Buffer.alloc(5);
  head[0] = flag;
  head.writeUInt32BE(length >>> 0, 1);
  return Buffer.concat([head, message]);
}

export function grpcSession(port: number): ClientHttp2Session {
  return connect(`http://127.0.0.1:${port}`);
}

/** One unary call; the status comes from the trailers, or from the headers of a trailers-only answer. */
export function grpcCall(session: ClientHttp2Session, c: GrpcCase): Promise<GrpcAnswer> {
  return new Promise((resolve, reject) => {
    const req = session.request({ ':method': 'POST', ':path': c.path, 'content-type': 'application/grpc', te: 'trailers', ...c.headers });
    let headers: IncomingHttpHeaders = {};
    let trailers: IncomingHttpHeaders = {};
    req.on('response', (h) => {
      headers = h;
    });
    req.on('trailers', (t) => {
      trailers = t;
    });
    req.on('data', () => {});
    req.on('end', () => {
      const status = trailers['grpc-status'] ?? headers['grpc-status'];
      const message = trailers['grpc-message'] ?? headers['grpc-message'];
      resolve({
        httpStatus: headers[':status'] === undefined ? undefined : Number(headers[':status']),
        grpcStatus: status === undefined ? undefined : Number(status),
        grpcMessage: message === undefined ? '' : decodeURIComponent(String(message)),
      });
    });
    req.on('error', reject);
    req.end(Buffer.from(c.body));
  });
}

const auth = () => ({ authorization: `Bearer ${FUZZ_KEY}` });
/** grpc-js's codes: OK, INVALID_ARGUMENT, RESOURCE_EXHAUSTED, UNIMPLEMENTED, UNAUTHENTICATED. */
const OK = 0;
const RESOURCE_EXHAUSTED = 8;
const UNIMPLEMENTED = 12;
const UNAUTHENTICATED = 16;

let bombCache: Buffer | undefined;
const bomb = () => (bombCache ??= gzipSync(new Uint8Array(8 << 20)));

export function grpcCase(seedNo: number, caseNo: number): GrpcCase {
  const rand = Random.forCase(seedNo, 'grpc', caseNo);
  const seed = SEEDS[caseNo % SEEDS.length];
  const signal: Signal = rand.chance(0.1) ? rand.pick(SIGNALS) : seed.signal;
  const path = OTLP_GRPC_PATHS[signal];
  const at = `${seed.label} to ${signal} Export`;
  const mutated = () => {
    const m = mutateProto(seed.bytes, rand);
    return { bytes: m.bytes, what: `mutated [${m.what.join(', ')}]` };
  };
  const kind = rand.next();

  if (kind < 0.45) {
    const m = rand.chance(0.15) ? { bytes: seed.bytes, what: 'valid' } : mutated();
    return { label: `${at}, ${m.what}`, path, headers: auth(), body: grpcFrame(m.bytes), framing: 'framed', expect: m.what === 'valid' && signal === seed.signal ? OK : undefined };
  }
  if (kind < 0.6) {
    const m = mutated();
    const encoding = rand.pick(['gzip', 'deflate']);
    const packed = encoding === 'gzip' ? gzipSync(m.bytes) : deflateSync(m.bytes);
    return { label: `${at}, ${m.what}, ${encoding}`, path, headers: { ...auth(), 'grpc-encoding': encoding }, body: grpcFrame(packed, 1), framing: 'framed' };
  }
  if (kind < 0.7) {
    const stream = Uint8Array.from(gzipSync(seed.bytes));
    for (let k = rand.range(1, 3); k > 0; k--) stream[rand.int(stream.length)] ^= 1 << rand.int(8);
    const body = rand.chance(0.5) ? stream : stream.subarray(0, rand.int(stream.length));
    return { label: `${at}, gzip stream with bit flips or cut`, path, headers: { ...auth(), 'grpc-encoding': 'gzip' }, body: grpcFrame(body, 1), framing: 'broken' };
  }
  if (kind < 0.73) {
    return { label: `gzip bomb (8 MiB of zeros) to ${signal} Export`, path, headers: { ...auth(), 'grpc-encoding': 'gzip' }, body: grpcFrame(bomb(), 1), framing: 'framed', expect: RESOURCE_EXHAUSTED };
  }
  if (kind < 0.9) {
    const msg = seed.bytes;
    const [what, body, headers, expect] = rand.pick<[string, Buffer, Record<string, string>, number | undefined]>([
      ['no message', Buffer.alloc(0), auth(), UNIMPLEMENTED],
      ['a prefix cut short', grpcFrame(msg).subarray(0, rand.range(1, 4)), auth(), undefined],
      ['a length past the message', grpcFrame(msg, 0, msg.length + rand.range(1, 100)), auth(), undefined],
      ['a length short of the message', grpcFrame(msg, 0, Math.max(0, msg.length - rand.range(1, 10))), auth(), undefined],
      ['a length of 4 GiB', grpcFrame(msg, 0, 0xffffffff), auth(), RESOURCE_EXHAUSTED],
      ['two messages', Buffer.concat([grpcFrame(msg), grpcFrame(msg)]), auth(), UNIMPLEMENTED],
      ['the compressed flag without grpc-encoding', grpcFrame(gzipSync(msg), 1), auth(), undefined],
      ['grpc-encoding br', grpcFrame(msg, 1), { ...auth(), 'grpc-encoding': 'br' }, UNIMPLEMENTED],
      ['gzip labelled deflate', grpcFrame(gzipSync(msg), 1), { ...auth(), 'grpc-encoding': 'deflate' }, undefined],
    ]);
    return { label: `${at} with ${what}`, path, headers, body, framing: 'broken', expect };
  }
  if (kind < 0.95) {
    const authorization = rand.pick([undefined, 'Bearer ', 'Bearer wrong-key', `Basic ${FUZZ_KEY}`]);
    const headers: Record<string, string> = authorization === undefined ? {} : { authorization };
    return { label: `${at} with authorization ${JSON.stringify(authorization)}`, path, headers, body: grpcFrame(seed.bytes), framing: 'framed', expect: UNAUTHENTICATED };
  }
  const badPath = rand.pick([`${path}X`, '/opentelemetry.proto.collector.trace.v1.TraceService/Other', '/', '/x/y']);
  return { label: `${seed.label} to ${badPath}`, path: badPath, headers: auth(), body: grpcFrame(seed.bytes), framing: 'broken', expect: UNIMPLEMENTED };
}
