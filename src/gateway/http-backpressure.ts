import { Transform, type TransformCallback } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { inflightRefusal, type InflightBudget } from './admission/index.ts';
import type { IngestError } from './ingest-error.ts';

/** Bytes each request holds, by its raw request: released once, when its response closes. */
const held = new WeakMap<object, { bytes: number }>();

function overloaded(budget: InflightBudget): IngestError {
  const err = inflightRefusal(budget);
  // Fastify keeps a statusCode on an error from the body stream (else it makes it a 400).
  return Object.assign(err, { statusCode: err.httpStatus });
}

/**
 * Bounds the request bytes the OTLP/HTTP receiver holds at once. With Content-Length the
 * request reserves it before its body is read and is refused at once (503, Retry-After) when
 * it does not fit; without (chunked), it reserves chunk by chunk as the body streams in and is
 * refused at the chunk that does not fit. Either way the bytes come back when the response
 * closes (sent, or the client gone). Add after authentication: unknown keys hold nothing.
 */
export function registerInflightLimit(app: FastifyInstance, budget: InflightBudget, bodyLimit: number, refuse: (req: FastifyRequest, reply: FastifyReply, err: IngestError) => void): void {
  app.addHook('onRequest', async (req, reply) => {
    if (req.method !== 'POST' || reply.sent) return;
    const account = { bytes: 0 };
    held.set(req.raw, account);
    reply.raw.once('close', () => {
      budget.release(account.bytes);
      account.bytes = 0;
    });
    const length = Number(req.headers['content-length']);
    // Over the body limit, Fastify answers 413 without reading: nothing to hold.
    if (!Number.isSafeInteger(length) || length > bodyLimit) return;
    if (!budget.tryReserve(length)) {
      refuse(req, reply, overloaded(budget));
      return reply;
    }
    account.bytes = length;
  });

  app.addHook('preParsing', async (req, _reply, payload) => {
    const account = held.get(req.raw);
    if (account === undefined || req.headers['content-length'] !== undefined) return payload;
    let received = 0;
    const counted = new Transform({
      transform(chunk: Buffer, _enc: BufferEncoding, callback: TransformCallback) {
        if (!budget.tryReserve(chunk.length)) return callback(overloaded(budget));
        account.bytes += chunk.length;
        received += chunk.length;
        (counted as Transform & { receivedEncodedLength: number }).receivedEncodedLength = received;
        callback(null, chunk);
      },
    });
    payload.on('error', (err) => counted.destroy(err));
    return payload.pipe(counted);
  });
}
