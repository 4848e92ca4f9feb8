import { gunzip, inflate } from 'node:zlib';
import { promisify } from 'node:util';

const gunzipAsync = promisify(gunzip);
const inflateAsync = promisify(inflate);

export class PayloadTooLargeError extends Error {}
export class UnsupportedEncodingError extends Error {}
export class BadEncodingError extends Error {}

/**
 * Undoes Content-Encoding with the size limit applied to the OUTPUT: zlib stops at
 * maxOutputLength, so a gzip bomb costs at most the limit, never its inflated size.
 */
export async function decodeContentEncoding(body: Buffer, encoding: string | undefined, limit: number): Promise<Buffer> {
  const enc = (encoding ?? 'identity').trim().toLowerCase();
  if (enc === '' || enc === 'identity') return body;
  const inflater = enc === 'gzip' || enc === 'x-gzip' ? gunzipAsync : enc === 'deflate' ? inflateAsync : null;
  if (!inflater) throw new UnsupportedEncodingError(`unsupported Content-Encoding '${enc}': use gzip, deflate or none`);
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
