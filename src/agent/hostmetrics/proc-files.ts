/**
 * Reading and splitting the small text files of procfs, sysfs and cgroupfs. Everything is
 * parsed by hand: the files are a few KB, and a scrape every few seconds must cost next to nothing.
 */
import { readFile } from 'node:fs/promises';

/** Reads a file once per scrape even when several metric sets need it (/proc/stat, /proc/meminfo). */
export type FileReader = (path: string) => Promise<string>;

export function createFileReader(): FileReader {
  const seen = new Map<string, Promise<string>>();
  return (path) => {
    let text = seen.get(path);
    if (!text) {
      text = readFile(path, 'utf8');
      seen.set(path, text);
    }
    return text;
  };
}

/** Whitespace-separated fields of one line. */
export function fields(line: string): string[] {
  return line.trim().split(/\s+/);
}

/** Non-empty lines. */
export function lines(text: string): string[] {
  return text.split('\n').filter((l) => l.trim() !== '');
}

/** A non-negative integer field; a malformed file fails its metric set with a message naming file and field. */
export function whole(value: string | undefined, file: string, what: string): number {
  const n = value === undefined || !/^\d+$/.test(value) ? NaN : Number(value);
  if (!Number.isFinite(n)) throw new Error(`${file}: ${what} is not a whole number: ${JSON.stringify(value)}`);
  return n;
}

export function decimal(value: string | undefined, file: string, what: string): number {
  const n = value === undefined || !/^\d+(\.\d+)?$/.test(value) ? NaN : Number(value);
  if (!Number.isFinite(n)) throw new Error(`${file}: ${what} is not a number: ${JSON.stringify(value)}`);
  return n;
}

/**
 * "Key:   123 kB" tables (/proc/meminfo, /proc/self/status) as bytes per key; lines without a
 * number (Name:, State:) are left out, values without a unit are kept as they are (Threads:).
 */
export function kbTable(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^([^:]+):\s+(\d+)(\s+kB)?\s*$/.exec(line);
    if (m) out.set(m[1], Number(m[2]) * (m[3] ? 1024 : 1));
  }
  return out;
}

export function required(table: Map<string, number>, key: string, file: string): number {
  const v = table.get(key);
  if (v === undefined) throw new Error(`${file}: no ${key} line`);
  return v;
}
