import * as zlib from 'node:zlib';
import { promisify } from 'node:util';

type Inflater = (body: Buffer, options: { maxOutputLength: number }) => Promise<Buffer>;

const INFLATERS = new Map<string, Inflater>([
  ['gzip', promisify(zlib.gunzip)],
  ['x-gzip', promisify(zlib.gunzip)],
  ['deflate', promisify(zlib.inflate)],
]);
// zstd where the runtime has it (Node 22.15+ / 24): looked up, not imported, so an older Node
// answers 415 for it instead of failing to load.
const zstdDecompress = (zlib as { zstdDecompress?: typeof zlib.zstdDecompress }).zstdDecompress;
if (typeof zstdDecompress === 'function') {
  const zstd = promisify(zstdDecompress) as (body: Buffer, options: zlib.ZstdOptions) => Promise<Buffer>;
  INFLATERS.set('zstd', (body, options) => zstd(body, { ...options, params: { [zlib.constants.ZSTD_d_windowLogMax]: zstdWindowLog(options.maxOutputLength) } }));
}

/**
 * The largest zstd window accepted: a frame declares its window and the decoder allocates it
 * before writing a byte, so without this a 20-byte frame could cost 128 MiB. The window need
 * not exceed the output limit; 8 MiB at least, the window common encoders use for streams.
 */
function zstdWindowLog(limit: number): number {
  return Math.min(27, Math.max(23, Math.ceil(Math.log2(limit))));
}

/** The Content-Encodings accepted, for errors and Accept-Encoding style answers. */
export const SUPPORTED_ENCODINGS: readonly string[] = ['gzip', 'deflate', ...(INFLATERS.has('zstd') ? ['zstd'] : [])];

export class PayloadTooLargeError extends Error {}
export class UnsupportedEncodingError extends Error {}
export class BadEncodingError extends Error {}

/**
 * Undoes Content-Encoding with the size limit applied to the OUTPUT: zlib (gzip, deflate and
 * zstd alike) stops at maxOutputLength, so a bomb costs at most the limit, never its inflated size.
 */
export async function decodeContentEncoding(body: Buffer, encoding: string | undefined, limit: number): Promise<Buffer> {
  const enc = (encoding ?? 'identity').trim().toLowerCase();
  if (enc === '' || enc === 'identity') return body;
  const inflater = INFLATERS.get(enc);
  if (!inflater) throw new UnsupportedEncodingError(`unsupported Content-Encoding '${enc}': use ${SUPPORTED_ENCODINGS.join(', ')} or none`);
  try {
    return await inflater(body, { maxOutputLength: limit });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) {
      throw new PayloadTooLargeError(`decompressed body exceeds the limit of ${limit} bytes`);
    }
    throw new BadEncodingError(`body is not valid ${enc}: ${(err as Error).message}`);
  }
}
