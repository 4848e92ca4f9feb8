/** Native blocks collected per table: the unit one micro-batch inserts. */
import type { NativeTable } from './columns.ts';

/** [table, Native block, row count] */
export type NativeEntry = [table: string, block: Buffer, rows: number];

export class NativeRowSink {
  readonly #tables = new Map<string, NativeTable>();
  /** entries() of the current rows (a retried insert reuses the blocks). */
  #entries: NativeEntry[] | null = null;

  /** The table's column writer, created on first use; encoders write rows into it and count them in `rows`. */
  table<T extends NativeTable>(name: string, create: () => T): T {
    this.#entries = null;
    let t = this.#tables.get(name);
    if (!t) {
      t = create();
      this.#tables.set(name, t);
    }
    return t as T;
  }

  /** Remembers every table's state so a record that fails half-way can be taken out again. */
  begin(): void {
    for (const t of this.#tables.values()) t.mark();
  }

  /** Drops every row written since begin() (tables first used since then become empty). */
  rollback(): void {
    this.#entries = null;
    for (const t of this.#tables.values()) t.rollback();
  }

  /** Tables with at least one row, in first-use order (stable, so retries insert in the same order). */
  entries(): NativeEntry[] {
    if (this.#entries) return this.#entries;
    const out: NativeEntry[] = [];
    for (const [name, t] of this.#tables) if (t.rows > 0) out.push([name, t.block(), t.rows]);
    this.#entries = out;
    return out;
  }

  get rowCount(): number {
    let n = 0;
    for (const t of this.#tables.values()) n += t.rows;
    return n;
  }
}
