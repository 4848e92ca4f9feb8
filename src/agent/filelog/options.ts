/** The log-file receiver's options, their defaults and their validation. */
import type { KeyValue } from '../../otlp/index.ts';
import { expandBraces } from './glob.ts';

export interface FileLogOptions {
  /** Globs of files to tail, e.g. '/var/log/app/*.log', '/var/log/**\/*.log' (*, ?, ** and {a,b}); relative ones are resolved against the working directory. */
  include: string[];
  /** Globs of files never to tail, matched against the whole path; a relative one ('*.gz') matches at any depth. */
  exclude?: string[];
  /**
   * Where to start in files already present the first time the agent ever runs (no checkpoint);
   * default 'end'. Files that appear later are always read from the beginning.
   */
  startAt?: 'end' | 'beginning';
  /** Regex source; a line matching it starts a new record, other lines are appended to the current one. */
  multilineStart?: string;
  /** How long a multiline record waits for a continuation line before it is emitted; default 1000 ms. */
  multilineFlushMs?: number;
  /** Longest line kept, in bytes; default 64 KiB. The rest of a longer line is skipped unread into memory. */
  maxLineBytes?: number;
  /** Longest multiline record, in bytes; default 256 KiB. */
  maxRecordBytes?: number;
  /** How often files are globbed and stat'ed; default 250 ms. */
  pollIntervalMs?: number;
  /**
   * How long a file may stay still before its unterminated last line is emitted, and before a file
   * rotated away (renamed out of the globs) is closed; default 5000 ms.
   */
  idleMs?: number;
  /** Records per batch; default 1000. */
  batchMaxRecords?: number;
  /** Body bytes per batch, to keep the agent's memory bounded with long records; default 4 MiB. */
  batchMaxBytes?: number;
  /** Longest a record waits in a batch before the batch is sent; default 1000 ms. */
  batchMaxWaitMs?: number;
  /** File handles held at once; idle files beyond this are closed and reopened when they grow. Default 256. */
  maxOpenFiles?: number;
  resourceAttributes?: KeyValue[];
  /** Returns the state saved in the last durable batch, or undefined on a first start. */
  resume?: () => Promise<string | undefined>;
  log?: (line: string) => void;
  /** Millisecond clock for the records' observed time; default Date.now (timers use a monotonic clock). */
  now?: () => number;
}

export interface ResolvedFileLogOptions {
  include: string[];
  exclude: string[];
  startAt: 'end' | 'beginning';
  multilineStart: RegExp | undefined;
  multilineFlushMs: number;
  maxLineBytes: number;
  maxRecordBytes: number;
  pollIntervalMs: number;
  idleMs: number;
  batchMaxRecords: number;
  batchMaxBytes: number;
  batchMaxWaitMs: number;
  maxOpenFiles: number;
  resourceAttributes: KeyValue[];
  resume: () => Promise<string | undefined>;
  log: (line: string) => void;
  now: () => number;
}

function fail(field: string, problem: string, got: unknown): never {
  throw new TypeError(`filelog: ${field} ${problem}, got ${JSON.stringify(got) ?? String(got)}`);
}

function globs(field: string, value: unknown, required: boolean): string[] {
  if (value === undefined && !required) return [];
  if (!Array.isArray(value) || (required && value.length === 0)) fail(field, required ? 'must be a non-empty array of globs' : 'must be an array of globs', value);
  value.forEach((g, i) => {
    if (typeof g !== 'string' || g.trim() === '') fail(`${field}[${i}]`, 'must be a non-empty glob string', g);
    try {
      expandBraces(g);
    } catch (err) {
      fail(`${field}[${i}]`, `is not a usable glob (${(err as Error).message})`, g);
    }
  });
  return value as string[];
}

function count(field: string, value: unknown, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) fail(field, `must be an integer of at least ${min}`, value);
  return value;
}

function fn<T>(field: string, value: T | undefined): T | undefined {
  if (value !== undefined && typeof value !== 'function') fail(field, 'must be a function', typeof value);
  return value;
}

function regex(field: string, value: unknown): RegExp | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') fail(field, 'must be a non-empty regular expression', value);
  try {
    return new RegExp(value);
  } catch (err) {
    return fail(field, `is not a valid regular expression (${(err as Error).message})`, value);
  }
}

export function resolveFileLogOptions(options: FileLogOptions): ResolvedFileLogOptions {
  if (!options || typeof options !== 'object') fail('options', 'must be an object', options);
  const startAt = options.startAt ?? 'end';
  if (startAt !== 'end' && startAt !== 'beginning') fail('startAt', "must be 'end' or 'beginning'", startAt);
  const resourceAttributes = options.resourceAttributes ?? [];
  if (!Array.isArray(resourceAttributes)) fail('resourceAttributes', 'must be an array of KeyValue', resourceAttributes);
  resourceAttributes.forEach((kv, i) => {
    if (!kv || typeof kv.key !== 'string' || kv.key === '') fail(`resourceAttributes[${i}].key`, 'must be a non-empty string', kv?.key);
  });
  const maxLineBytes = count('maxLineBytes', options.maxLineBytes, 64 * 1024, 16);
  const maxRecordBytes = count('maxRecordBytes', options.maxRecordBytes, 256 * 1024, 16);
  return {
    include: globs('include', options.include, true),
    exclude: globs('exclude', options.exclude, false),
    startAt,
    multilineStart: regex('multilineStart', options.multilineStart),
    multilineFlushMs: count('multilineFlushMs', options.multilineFlushMs, 1000, 0),
    maxLineBytes,
    // A record holds at least one whole line, so it is never shorter than the line limit.
    maxRecordBytes: Math.max(maxRecordBytes, maxLineBytes),
    pollIntervalMs: count('pollIntervalMs', options.pollIntervalMs, 250, 1),
    idleMs: count('idleMs', options.idleMs, 5000, 0),
    batchMaxRecords: count('batchMaxRecords', options.batchMaxRecords, 1000, 1),
    batchMaxBytes: count('batchMaxBytes', options.batchMaxBytes, 4 * 1024 * 1024, 1),
    batchMaxWaitMs: count('batchMaxWaitMs', options.batchMaxWaitMs, 1000, 0),
    maxOpenFiles: count('maxOpenFiles', options.maxOpenFiles, 256, 1),
    resourceAttributes,
    resume: fn('resume', options.resume) ?? (async () => undefined),
    log: fn('log', options.log) ?? (() => {}),
    now: fn('now', options.now) ?? Date.now,
  };
}
