/**
 * The receiver's checkpoint: for every tracked file, who it is (device, inode, fingerprint) and
 * how far its records are durable. It travels with each batch and is stored atomically with it,
 * so after a restart reading resumes exactly after the last durable record.
 */
import { FINGERPRINT_BYTES, type Fingerprint } from './fingerprint.ts';

export interface FilePosition {
  /** Where the file was last seen (for logs and for finding it again after a rotation). */
  path: string;
  dev: string;
  ino: string;
  fingerprint: Fingerprint;
  /** Bytes before this offset are in durable records. */
  offset: number;
}

export interface CheckpointState {
  files: FilePosition[];
}

const VERSION = 1;

export function encodeCheckpoint(state: CheckpointState): string {
  return JSON.stringify({
    v: VERSION,
    files: state.files.map((f) => ({ path: f.path, dev: f.dev, ino: f.ino, fpLen: f.fingerprint.length, fp: f.fingerprint.hash, offset: f.offset })),
  });
}

export class CheckpointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CheckpointError';
  }
}

/** Parses a stored state; throws CheckpointError naming the bad field. */
export function decodeCheckpoint(text: string): CheckpointState {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new CheckpointError(`filelog checkpoint is not JSON (${(err as Error).message})`);
  }
  if (!isObject(raw)) throw new CheckpointError('filelog checkpoint must be a JSON object');
  if (raw.v !== VERSION) throw new CheckpointError(`filelog checkpoint field v must be ${VERSION}, got ${JSON.stringify(raw.v)}`);
  if (!Array.isArray(raw.files)) throw new CheckpointError('filelog checkpoint field files must be an array');
  const files = raw.files.map((f: unknown, i: number): FilePosition => {
    const at = `files[${i}]`;
    if (!isObject(f)) throw new CheckpointError(`filelog checkpoint field ${at} must be an object`);
    const textField = (k: string): string => {
      if (typeof f[k] !== 'string') throw new CheckpointError(`filelog checkpoint field ${at}.${k} must be a string`);
      return f[k];
    };
    const count = (k: string, max: number): number => {
      const v = f[k];
      if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v > max) {
        throw new CheckpointError(`filelog checkpoint field ${at}.${k} must be an integer from 0 to ${max}`);
      }
      return v;
    };
    const path = textField('path');
    const dev = textField('dev');
    const ino = textField('ino');
    const length = count('fpLen', FINGERPRINT_BYTES);
    const hash = textField('fp');
    if (!/^[0-9a-f]*$/.test(hash)) throw new CheckpointError(`filelog checkpoint field ${at}.fp must be hex`);
    return { path, dev, ino, fingerprint: { length, hash }, offset: count('offset', Number.MAX_SAFE_INTEGER) };
  });
  return { files };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
