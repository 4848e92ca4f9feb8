/**
 * Reads the single length-prefixed request message of a unary gRPC call (1-byte compressed
 * flag, 4-byte big-endian length) off a node:http2 stream, for grpc-h2-server.ts.
 */
import type { ServerHttp2Stream } from 'node:http2';
import { FRAME_HEADER, GRPC_STATUS, type Refusal } from './grpc-h2-wire.ts';

export type Read = { compressed: boolean; message: Buffer } | Refusal;

export interface ReadLimits {
  /** Largest announced length taken. */
  limit: number;
  /** The status of a call with no message or more than one (see GrpcH2ServerOptions). */
  cardinalityCode: number;
  /**
   * Called once the prefix is in, before any of the message is buffered: a Refusal ends the
   * call there (the in-flight budget reserves the announced length at this point).
   */
  admit?(length: number): Refusal | undefined;
}

/**
 * A length over the limit is refused from the 5-byte prefix, before any of the message is
 * buffered; the message buffer is allocated once, at the announced length. `done` is not
 * called when the client goes away first.
 */
export function readMessage(stream: ServerHttp2Stream, limits: ReadLimits, done: (read: Read) => void): void {
  const prefix = Buffer.alloc(FRAME_HEADER);
  let prefixed = 0;
  let message: Buffer | undefined;
  let filled = 0;
  let finished = false;
  const finish = (read: Read) => {
    if (finished) return;
    finished = true;
    stream.off('data', onData);
    stream.off('end', onEnd);
    // The rest of an unwanted body is dropped as it comes, never buffered.
    stream.resume();
    done(read);
  };
  const onData = (chunk: Buffer) => {
    let at = 0;
    while (at < chunk.length) {
      if (!message) {
        const n = Math.min(FRAME_HEADER - prefixed, chunk.length - at);
        chunk.copy(prefix, prefixed, at, at + n);
        prefixed += n;
        at += n;
        if (prefixed < FRAME_HEADER) return;
        const flag = prefix[0];
        const length = prefix.readUInt32BE(1);
        if (flag > 1) return finish({ code: GRPC_STATUS.INTERNAL, message: `invalid compressed flag ${flag} in the message prefix` });
        if (length > limits.limit) return finish({ code: GRPC_STATUS.RESOURCE_EXHAUSTED, message: `Received message larger than max (${length} vs ${limits.limit})` });
        const refused = limits.admit?.(length);
        if (refused) return finish(refused);
        message = Buffer.allocUnsafe(length);
      } else if (filled < message.length) {
        const n = Math.min(message.length - filled, chunk.length - at);
        chunk.copy(message, filled, at, at + n);
        filled += n;
        at += n;
      } else {
        return finish({ code: limits.cardinalityCode, message: 'more than one request message for a unary call' });
      }
    }
  };
  const onEnd = () => {
    if (prefixed === 0) finish({ code: limits.cardinalityCode, message: 'no request message for a unary call' });
    else if (!message || filled < message.length) finish({ code: GRPC_STATUS.INTERNAL, message: 'the request ended before a complete message' });
    else finish({ compressed: prefix[0] === 1, message });
  };
  stream.on('data', onData);
  stream.on('end', onEnd);
}
