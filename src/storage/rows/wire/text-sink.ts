/** JSONEachRow bytes collected per table: the unit one micro-batch inserts. */
import { JsonBytes } from './json-bytes.ts';

/** [table, JSONEachRow body (one line per row, each ending in '\n'), row count] */
export type TextEntry = [table: string, body: Buffer, rows: number];

/** The write position and row count of one table at begin(), for rollback(). */
interface Mark {
  pos: number;
  rows: number;
}

const NEWLINE = 0x0a;

/**
 * Each JSONEachRow line of `body` with `field` (`"Name":value,`) first in its object. A copy:
 * this is the reference path (consumer.ts insertFormat), where clarity beats the extra pass.
 */
function withField(body: Buffer, field: string): Buffer {
  const insert = Buffer.from(field, 'utf8');
  const parts: Buffer[] = [];
  for (let start = 0; start < body.length; ) {
    const nl = body.indexOf(NEWLINE, start);
    const end = nl === -1 ? body.length : nl + 1;
    // Every line is an object: '{' then its fields.
    parts.push(body.subarray(start, start + 1), insert, body.subarray(start + 1, end));
    start = end;
  }
  return Buffer.concat(parts);
}

export class TextRowSink {
  readonly #tables = new Map<string, JsonBytes>();
  readonly #marks = new Map<string, Mark>();
  /** entries() of the current bytes (a retried insert reuses them). */
  #entries: TextEntry[] | null = null;
  /** The batch's id, given to every row as IngestBatch (null: rows without it). */
  #ingestBatch: bigint | null = null;

  /** Sets the id the rows of this batch carry. */
  set ingestBatch(id: bigint | null) {
    this.#entries = null;
    this.#ingestBatch = id;
  }

  /** The table's byte writer, created on first use; decoders write rows into it and count them in `rows`. */
  table(name: string): JsonBytes {
    this.#entries = null;
    let w = this.#tables.get(name);
    if (!w) {
      w = new JsonBytes();
      this.#tables.set(name, w);
    }
    return w;
  }

  /** Remembers every table's position so a record that fails half-way can be taken out again. */
  begin(): void {
    for (const [table, w] of this.#tables) {
      const mark = this.#marks.get(table);
      if (mark) {
        mark.pos = w.pos;
        mark.rows = w.rows;
      } else {
        this.#marks.set(table, { pos: w.pos, rows: w.rows });
      }
    }
  }

  /** Drops every byte and row written since begin() (tables first used since then become empty). */
  rollback(): void {
    this.#entries = null;
    for (const [table, w] of this.#tables) {
      const mark = this.#marks.get(table);
      w.pos = mark ? mark.pos : 0;
      w.rows = mark ? mark.rows : 0;
    }
  }

  /** Tables with at least one row, in first-use order (stable, so retries insert in the same order). */
  entries(): TextEntry[] {
    if (this.#entries) return this.#entries;
    const out: TextEntry[] = [];
    for (const [table, w] of this.#tables) {
      if (w.rows > 0) out.push([table, this.#ingestBatch === null ? w.view() : withField(w.view(), `"IngestBatch":"${this.#ingestBatch}",`), w.rows]);
    }
    this.#entries = out;
    return out;
  }

  get rowCount(): number {
    let n = 0;
    for (const w of this.#tables.values()) n += w.rows;
    return n;
  }
}

