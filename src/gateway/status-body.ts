/**
 * Error bodies as the OTLP/HTTP specification asks: a google.rpc.Status message, encoded
 * like the request (protobuf or JSON). Status is { int32 code = 1; string message = 2; },
 * small enough to write by hand rather than generate.
 */
export const GRPC_CODE = { INVALID_ARGUMENT: 3, UNAUTHENTICATED: 16, RESOURCE_EXHAUSTED: 8, UNAVAILABLE: 14, INTERNAL: 13 } as const;

function varint(n: number, out: number[]): void {
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
}

export function encodeStatusProto(code: number, message: string): Buffer {
  const msg = Buffer.from(message, 'utf8');
  const head: number[] = [];
  if (code) {
    head.push(0x08);
    varint(code, head);
  }
  head.push(0x12);
  varint(msg.length, head);
  return Buffer.concat([Buffer.from(head), msg]);
}
