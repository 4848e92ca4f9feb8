/** JSONEachRow text collected per table: the unit one micro-batch inserts. */

/** [table, JSONEachRow body (one line per row, each ending in '\n'), row count] */
export type TextEntry = [table: string, body: string, rows: number];

export class TextRowSink {
  readonly #tables = new Map<string, string[]>();
  /** Line counts per table at begin(), for rollback(). */
  readonly #marks = new Map<string, number>();
  /** entries() of the current lines (a retried insert reuses the joined bodies). */
  #joined: TextEntry[] | null = null;

  /** The (growing) line list of a table, created on first use; decoders push rows here. */
  lines(table: string): string[] {
    this.#joined = null;
    let list = this.#tables.get(table);
    if (!list) {
      list = [];
      this.#tables.set(table, list);
    }
    return list;
  }

  append(table: string, line: string): void {
    this.lines(table).push(line);
  }

  /** Remembers the current lines so a record that fails half-way can be taken out again. */
  begin(): void {
    this.#marks.clear();
    for (const [table, list] of this.#tables) this.#marks.set(table, list.length);
  }

  /** Drops every line appended since begin(). */
  rollback(): void {
    this.#joined = null;
    for (const [table, list] of this.#tables) list.length = this.#marks.get(table) ?? 0;
  }

  /** Tables with at least one row, in first-use order (stable, so retries insert in the same order). */
  entries(): TextEntry[] {
    if (this.#joined) return this.#joined;
    const out: TextEntry[] = [];
    for (const [table, list] of this.#tables) {
      if (list.length > 0) out.push([table, list.join('\n') + '\n', list.length]);
    }
    this.#joined = out;
    return out;
  }

  get rowCount(): number {
    let n = 0;
    for (const list of this.#tables.values()) n += list.length;
    return n;
  }
}
