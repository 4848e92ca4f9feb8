/**
 * Test helpers for the file-log receiver: a fake exporter that stores each batch's records and
 * checkpoint together (as the disk buffer does), polling waits, and temp directories.
 */
import { appendFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Consumer, Telemetry } from '../types.ts';

export interface StoredRecord {
  path: string;
  body: string;
  severityNumber?: number;
  severityText?: string;
  timeUnixNano?: unknown;
  attributes: Record<string, unknown>;
}

function attributeValue(v: { stringValue?: string | null; intValue?: unknown; doubleValue?: number | null; boolValue?: boolean | null } | null | undefined): unknown {
  if (!v) return undefined;
  if (v.stringValue != null) return v.stringValue;
  if (v.boolValue != null) return v.boolValue;
  if (v.doubleValue != null) return v.doubleValue;
  if (v.intValue != null) return Number(v.intValue);
  return undefined;
}

/** The records of a filelog batch, flattened for assertions. */
export function recordsOf(batch: Telemetry): StoredRecord[] {
  if (batch.signal !== 'logs') throw new Error(`expected a logs batch, got ${batch.signal}`);
  const out: StoredRecord[] = [];
  for (const rl of batch.request.resourceLogs ?? []) {
    for (const sl of rl.scopeLogs ?? []) {
      for (const lr of sl.logRecords ?? []) {
        const attributes: Record<string, unknown> = {};
        for (const kv of lr.attributes ?? []) attributes[kv.key!] = attributeValue(kv.value);
        out.push({
          path: String(attributes['log.file.path']),
          body: lr.body?.stringValue ?? '',
          severityNumber: lr.severityNumber ?? undefined,
          severityText: lr.severityText ?? undefined,
          timeUnixNano: lr.timeUnixNano ?? undefined,
          attributes,
        });
      }
    }
  }
  return out;
}

/**
 * Stands in for the exporter: consume() stores the records with the batch's checkpoint in one
 * step, and resume() returns the last stored checkpoint, as lastCheckpoint() would.
 */
export class FakeStore implements Consumer {
  readonly batches: Telemetry[] = [];
  readonly records: StoredRecord[] = [];
  checkpoint: string | undefined;
  /** Reject this many consume() calls before taking batches again. */
  rejectNext = 0;
  rejected = 0;

  async consume(batch: Telemetry): Promise<void> {
    if (this.rejectNext > 0) {
      this.rejectNext--;
      this.rejected++;
      throw new Error('disk buffer full');
    }
    // A batch of positions only (the very first start) stores its checkpoint and nothing else.
    if (batch.items > 0) this.batches.push(batch);
    this.records.push(...recordsOf(batch));
    this.checkpoint = batch.checkpoint?.state;
  }

  readonly resume = async (): Promise<string | undefined> => this.checkpoint;

  bodies(): string[] {
    return this.records.map((r) => r.body);
  }
}

/**
 * A consumer that stores `batches` batches in `store` and then "dies": the next consume() call
 * never returns, as if the process was killed right after the last durable write. release()
 * makes the hung call fail so the dead receiver can be stopped and its files closed.
 */
export function crashingConsumer(store: FakeStore, batches: number): Consumer & { hung: () => boolean; release: () => void } {
  let taken = 0;
  let reject: ((err: Error) => void) | undefined;
  return {
    async consume(batch) {
      // Batches of positions only (the first start) are taken and not counted.
      if (batch.items > 0) {
        if (taken >= batches || reject) return new Promise((_, r) => (reject = r));
        taken++;
      }
      await store.consume(batch);
    },
    hung: () => reject !== undefined,
    release: () => reject?.(new Error('the process is gone')),
  };
}

export async function waitFor(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'filelog-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Settings that make a receiver react within tens of milliseconds in tests. */
export const FAST = { pollIntervalMs: 20, batchMaxWaitMs: 20, idleMs: 300, multilineFlushMs: 200 } as const;

/** Asserts each expected line arrived exactly once (duplicates and gaps listed in the error). */
export function exactlyOnce(got: string[], expected: string[]): string | undefined {
  const counts = new Map<string, number>();
  for (const b of got) counts.set(b, (counts.get(b) ?? 0) + 1);
  const missing = expected.filter((e) => !counts.has(e));
  const repeated = [...counts].filter(([, n]) => n > 1).map(([b]) => b);
  const wanted = new Set(expected);
  const unexpected = [...counts.keys()].filter((b) => !wanted.has(b));
  if (missing.length === 0 && repeated.length === 0 && unexpected.length === 0) return undefined;
  return `missing ${missing.length} (${missing.slice(0, 5).join(', ')}), repeated ${repeated.length} (${repeated.slice(0, 5).join(', ')}), unexpected ${unexpected.length} (${unexpected.slice(0, 5).join(', ')})`;
}

/** 'p-1', 'p-2', ... 'p-to' from `from`. */
export function numbered(prefix: string, from: number, to: number): string[] {
  return Array.from({ length: to - from + 1 }, (_, i) => `${prefix}-${from + i}`);
}

/**
 * Appends numbered lines ('a-1', 'a-2', ...) to <dir>/<name>.log for each name, `burst` per file
 * every few milliseconds, until stopped; stop() returns every line written.
 */
export function startWriter(dir: string, names: string[], burst: number): { stop: () => Promise<string[]> } {
  const written: string[] = [];
  let n = 0;
  const state = { running: true };
  const loop = (async () => {
    while (state.running) {
      for (const name of names) {
        const ls = numbered(name, n + 1, n + burst);
        appendFileSync(join(dir, `${name}.log`), ls.map((l) => l + '\n').join(''));
        written.push(...ls);
      }
      n += burst;
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  })();
  return {
    stop: async () => {
      state.running = false;
      await loop;
      return written;
    },
  };
}
