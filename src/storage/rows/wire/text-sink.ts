/** JSONEachRow bytes collected per table: the unit one micro-batch inserts. */
import { JsonBytes } from './json-bytes.ts';

/** [table, JSONEachRow body (one line per row, each ending in '\n'), row count] */
export type TextEntry = [table: string, body: Buffer, rows: number];

/** The write position and row count of one table at begin(), for rollback(). */
interface Mark {
  pos: number;
  rows: number;
}

export class TextRowSink {
  readonly #tables = new Map<string, JsonBytes>();
  readonly #marks = new Map<string, Mark>();
  /** entries() of the current bytes (a retried insert reuses them). */
  #entries: TextEntry[] | null = null;

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
      if (w.rows > 0) out.push([table, w.view(), w.rows]);
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

