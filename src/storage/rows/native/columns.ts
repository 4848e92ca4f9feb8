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
  /** Empties the stream for the next batch, keeping its buffers (no regrowing, no fresh pages). */
  reset(): void;
  /** Bytes its buffers hold allocated (what a pooled sink keeps). */
  capacity(): number;
  /** Bytes prefix() and data() write. */
  byteSize(): number;
  prefix(out: NativeBytes): void;
  data(out: NativeBytes): void;
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
    this.offsets.offset((this.count += k));
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

  reset(): void {
    this.count = this.markCount = 0;
    this.offsets.reset();
    this.items.reset();
  }

  capacity(): number {
    return this.offsets.capacity() + this.items.capacity();
  }

  byteSize(): number {
    return this.offsets.byteSize() + this.items.byteSize();
  }

  prefix(out: NativeBytes): void {
    this.items.prefix(out);
  }

  data(out: NativeBytes): void {
    out.append(this.offsets);
    this.items.data(out);
  }
}

/**
 * Map(LowCardinality(String), V), as Native writes it: Array(Tuple(keys, values)), so one
 * offset per row, then the keys' and the values' streams.
 */
abstract class MapStreamBase<V extends Stream> implements Stream {
  readonly offsets = new NativeBytes(1 << 12);
  readonly keys = new LowCardinalityColumn();
  abstract readonly values: V;
  /** Entries so far (the last offset). */
  count = 0;
  private markCount = 0;

  /** Ends a row (a map) of `k` entries. */
  endRow(k: number): void {
    this.offsets.offset((this.count += k));
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

  reset(): void {
    this.count = this.markCount = 0;
    this.offsets.reset();
    this.keys.reset();
    this.values.reset();
  }

  capacity(): number {
    return this.offsets.capacity() + this.keys.capacity() + this.values.capacity();
  }

  byteSize(): number {
    return this.offsets.byteSize() + this.keys.byteSize() + this.values.byteSize();
  }

  /** The tuple's prefixes, in element order. */
  prefix(out: NativeBytes): void {
    this.keys.prefix(out);
    this.values.prefix(out);
  }

  data(out: NativeBytes): void {
    out.append(this.offsets);
    this.keys.data(out);
    this.values.data(out);
  }
}

/** Map(LowCardinality(String), String): attribute maps, written entry by entry (attributes.ts writeMap). */
export class MapStream extends MapStreamBase<NativeBytes> {
  readonly values = new NativeBytes(1 << 14);
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
  /** guess[0, distinctGuesses) are distinct ids (the last map's keys, none repeated). */
  distinctGuesses = 0;

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

  // reset() keeps seenIn, entryOf and the guesses: serials keep counting up, a guessed id is
  // always checked, and distinct ids stay distinct.
}

/**
 * Map(LowCardinality(String), LowCardinality(String)): a map whose values repeat as much as its
 * keys (resource attributes: the same few per process on every row). Rows are written whole
 * from a ConstantMap (attributes.ts) as key and value ids.
 */
export class LcMapStream extends MapStreamBase<LowCardinalityColumn> {
  readonly values = new LowCardinalityColumn();
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

/** The column a batch's rows carry its id in (schema.ts, migration 4). */
const INGEST_BATCH_HEAD = Buffer.concat([stringBytes('IngestBatch'), stringBytes('UInt64')]);

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

  /** No rows, the buffers kept for the next batch. */
  reset(): void {
    this.rows = this.markRows = 0;
    for (const c of this.columns) c.stream.reset();
  }

  capacity(): number {
    let n = 0;
    for (const c of this.columns) n += c.stream.capacity();
    return n;
  }

  /** Bytes of the block blockInto() writes. */
  blockSize(): number {
    let n = 20 + INGEST_BATCH_HEAD.length + 8 * this.rows;
    for (let i = 0; i < this.columns.length; i++) n += this.heads[i].length + this.columns[i].stream.byteSize();
    return n;
  }

  /**
   * Appends the Native block of every row written to `out`; with `ingestBatch`, each row also
   * carries it in the IngestBatch column (the batch's id, which a retried batch is checked by).
   */
  blockInto(out: NativeBytes, ingestBatch: bigint | null = null): void {
    out.reserve(this.blockSize());
    out.varuint(this.columns.length + (ingestBatch === null ? 0 : 1));
    out.varuint(this.rows);
    for (let i = 0; i < this.columns.length; i++) {
      const head = this.heads[i];
      out.copy(head, 0, head.length);
      this.columns[i].stream.prefix(out);
      this.columns[i].stream.data(out);
    }
    if (ingestBatch !== null) {
      out.copy(INGEST_BATCH_HEAD, 0, INGEST_BATCH_HEAD.length);
      const hi = Number(ingestBatch >> 32n);
      const lo = Number(ingestBatch & 0xffffffffn);
      for (let r = 0; r < this.rows; r++) out.u64(hi, lo);
    }
  }
}

/** Constructors of the column streams, so table classes read as their schema. */
export const fixed = (size = 1 << 14) => new NativeBytes(size);
export const lowCardinality = () => new LowCardinalityColumn();
export const map = () => new MapStream();
export const lcMap = () => new LcMapStream();
export const arrayOf = <T extends Stream>(items: T) => new ArrayStream(items);
