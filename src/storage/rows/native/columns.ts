/**
 * Column streams of a Native block and the block itself.
 *
 * A column serializes as ClickHouse's Native format does: first the prefixes of all its
 * streams (only LowCardinality has one), then its data: an Array is its UInt64 cumulative
 * offsets followed by its elements' data; a Map is an Array of (key, value) tuples, so offsets,
 * then every key, then every value. A Nested column is one Array column per field.
 *
 * A block is VarUInt column count, VarUInt row count, then per column its name, its type
 * (both as String) and its data. Columns left out are filled by the table's defaults.
 */
import { NativeBytes } from './bytes.ts';
import { LowCardinalityColumn } from './low-cardinality.ts';

/** What every column stream can do. */
export interface Stream {
  mark(): void;
  rollback(): void;
  prefix(out: Buffer[]): void;
  data(out: Buffer[]): void;
}

/** Array(T): one offset per row, the elements in `items`. */
export class ArrayStream<T extends Stream> implements Stream {
  readonly offsets = new NativeBytes(1 << 12);
  /** Elements so far (the last offset). */
  count = 0;
  private markCount = 0;
  readonly items: T;

  constructor(items: T) {
    this.items = items;
  }

  /** Ends a row holding the `k` elements appended to `items` since the last row. */
  endRow(k: number): void {
    this.count += k;
    this.offsets.u64n(this.count);
  }

  mark(): void {
    this.markCount = this.count;
    this.offsets.mark();
    this.items.mark();
  }

  rollback(): void {
    this.count = this.markCount;
    this.offsets.rollback();
    this.items.rollback();
  }

  prefix(out: Buffer[]): void {
    this.items.prefix(out);
  }

  data(out: Buffer[]): void {
    out.push(this.offsets.view());
    this.items.data(out);
  }
}

/** Map(LowCardinality(String), String). */
export class MapStream implements Stream {
  readonly offsets = new NativeBytes(1 << 12);
  readonly keys = new LowCardinalityColumn();
  readonly values = new NativeBytes(1 << 14);
  /** Entries so far (the last offset). */
  count = 0;
  private markCount = 0;
  /** Per key id: the serial of the last map it was seen in, and its entry number there (duplicate keys). */
  seenIn = new Int32Array(64);
  entryOf = new Int32Array(64);
  /** Serial of the map being written. */
  serial = 0;
  /**
   * The key id last seen at each entry position: maps of one source mostly repeat their keys in
   * the same order, so a key is first checked against this guess (one compare, no hashing).
   */
  guess = new Int32Array(32);

  /** Makes seenIn / entryOf cover every key id. */
  coverKeys(): void {
    const size = this.keys.size;
    if (size <= this.seenIn.length) return;
    let length = this.seenIn.length * 2;
    while (length < size) length *= 2;
    // Both copied: the map being written may already have entries in them.
    const seen = new Int32Array(length);
    seen.set(this.seenIn);
    this.seenIn = seen;
    const entries = new Int32Array(length);
    entries.set(this.entryOf);
    this.entryOf = entries;
  }

  /** Makes `guess` cover entry position `at`. */
  growGuess(at: number): void {
    let length = this.guess.length * 2;
    while (length <= at) length *= 2;
    const next = new Int32Array(length);
    next.set(this.guess);
    this.guess = next;
  }

  /** Ends a row (a map) of `k` entries. */
  endRow(k: number): void {
    this.count += k;
    this.offsets.u64n(this.count);
  }

  mark(): void {
    this.markCount = this.count;
    this.offsets.mark();
    this.keys.mark();
    this.values.mark();
  }

  rollback(): void {
    this.count = this.markCount;
    this.offsets.rollback();
    this.keys.rollback();
    this.values.rollback();
  }

  prefix(out: Buffer[]): void {
    this.keys.prefix(out);
  }

  data(out: Buffer[]): void {
    out.push(this.offsets.view());
    this.keys.data(out);
    this.values.data(out);
  }
}

/** A named, typed top-level column. */
export interface ColumnDef {
  readonly name: string;
  /** The ClickHouse type, exactly as the table declares it (no conversion on insert). */
  readonly type: string;
  readonly stream: Stream;
}

function stringBytes(s: string): Buffer {
  const text = Buffer.from(s, 'utf8');
  const out = new NativeBytes(text.length + 8);
  out.stringTrusted(text, 0, text.length);
  return out.view();
}

/** The rows of one table in a batch, column by column. */
export class NativeTable {
  readonly table: string;
  /** Rows completed. */
  rows = 0;
  private markRows = 0;
  private readonly columns: ColumnDef[] = [];
  private readonly heads: Buffer[] = [];

  constructor(table: string) {
    this.table = table;
  }

  /** Declares the next column; returns its stream for the encoder to write to. */
  column<S extends Stream>(name: string, type: string, stream: S): S {
    this.columns.push({ name, type, stream });
    this.heads.push(Buffer.concat([stringBytes(name), stringBytes(type)]));
    return stream;
  }

  /** The columns, in declaration order (for tests comparing them with the table). */
  columnDefs(): readonly ColumnDef[] {
    return this.columns;
  }

  mark(): void {
    this.markRows = this.rows;
    for (const c of this.columns) c.stream.mark();
  }

  rollback(): void {
    this.rows = this.markRows;
    for (const c of this.columns) c.stream.rollback();
  }

  /** The Native block of every row written. */
  block(): Buffer {
    const parts: Buffer[] = [];
    const head = new NativeBytes(16);
    head.varuint(this.columns.length);
    head.varuint(this.rows);
    parts.push(head.view());
    for (let i = 0; i < this.columns.length; i++) {
      parts.push(this.heads[i]);
      this.columns[i].stream.prefix(parts);
      this.columns[i].stream.data(parts);
    }
    return Buffer.concat(parts);
  }
}

/** Constructors of the column streams, so table classes read as their schema. */
export const fixed = (size = 1 << 14) => new NativeBytes(size);
export const lowCardinality = () => new LowCardinalityColumn();
export const map = () => new MapStream();
export const arrayOf = <T extends Stream>(items: T) => new ArrayStream(items);
