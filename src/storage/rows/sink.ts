/** Rows collected per table, the unit one micro-batch inserts. */
export type Row = Record<string, unknown>;

export class RowSink {
  readonly #tables = new Map<string, Row[]>();

  /** The (growing) row list of a table, created on first use. */
  rows(table: string): Row[] {
    let list = this.#tables.get(table);
    if (!list) {
      list = [];
      this.#tables.set(table, list);
    }
    return list;
  }

  /** Tables with at least one row, in first-use order (stable, so retries insert in the same order). */
  *entries(): IterableIterator<[string, Row[]]> {
    for (const entry of this.#tables) if (entry[1].length > 0) yield entry;
  }

  get rowCount(): number {
    let n = 0;
    for (const list of this.#tables.values()) n += list.length;
    return n;
  }
}
