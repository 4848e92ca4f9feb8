/**
 * Native blocks collected per table: the unit one micro-batch inserts.
 *
 * A table's insert body is a run of Native blocks of about `blockRows` rows each: once a
 * table's columns hold that many rows, they are written out as a block and emptied before the
 * next record. The columns then stay small enough to be in cache when they are copied into the
 * body, and a batch's memory is mostly its body (not its columns and a copy of them).
 */
import { CHUNK_BYTES, ChunkedBytes, UNPOOLED_CHUNKS, type ChunkSource } from './chunked-bytes.ts';
import type { NativeTable } from './columns.ts';

/** [table, Native blocks (the body's chunks, in order), row count] */
export type NativeEntry = [table: string, body: Buffer[], rows: number];

/** Rows per Native block of a body (ClickHouse squashes them into its own parts). */
const BLOCK_ROWS = 8192;

interface TableBody {
  table: NativeTable;
  /** Blocks written so far. */
  body: ChunkedBytes;
  /** Rows in those blocks. */
  rows: number;
}

export class NativeRowSink {
  readonly #tables = new Map<string, TableBody>();
  readonly #blockRows: number;
  /** entries() of the current rows (a retried insert reuses the blocks). */
  #entries: NativeEntry[] | null = null;
  /** The batch's id, written into every row's IngestBatch column (null: rows without it). */
  #ingestBatch: bigint | null = null;

  readonly #chunks: ChunkSource;

  /** `chunks`: where the bodies take their chunks (a pool's, to reuse them across batches). */
  constructor(blockRows = BLOCK_ROWS, chunks: ChunkSource = UNPOOLED_CHUNKS) {
    this.#blockRows = blockRows;
    this.#chunks = chunks;
  }

  /** Sets the id the rows of this batch carry; set it on an empty sink, before the first row. */
  set ingestBatch(id: bigint | null) {
    this.#ingestBatch = id;
  }

  /** The table's column writer, created on first use; encoders write rows into it and count them in `rows`. */
  table<T extends NativeTable>(name: string, create: () => T): T {
    this.#entries = null;
    let t = this.#tables.get(name);
    if (!t) {
      t = { table: create(), body: new ChunkedBytes(this.#chunks), rows: 0 };
      this.#tables.set(name, t);
    }
    return t.table as T;
  }

  /**
   * Before a record: writes out the tables holding a block's worth of rows, then remembers
   * every table's state so a record that fails half-way can be taken out again.
   */
  begin(): void {
    for (const t of this.#tables.values()) {
      if (t.table.rows >= this.#blockRows) this.#writeBlock(t);
      t.table.mark();
    }
  }

  /** Drops every row written since begin() (tables first used since then become empty). */
  rollback(): void {
    this.#entries = null;
    for (const t of this.#tables.values()) t.table.rollback();
  }

  /** Appends the table's rows to its body as one block and empties its columns. */
  #writeBlock(t: TableBody): void {
    t.table.blockInto(t.body, this.#ingestBatch);
    t.rows += t.table.rows;
    t.table.reset();
  }

  /**
   * Empties the sink for another batch, keeping its columns' buffers and giving its bodies'
   * chunks back to their source. The bodies entries() returned are overwritten from then on:
   * reset only a sink whose inserts are done.
   */
  reset(): void {
    this.#entries = null;
    this.#ingestBatch = null;
    for (const t of this.#tables.values()) {
      t.table.reset();
      t.body.reset();
      t.rows = 0;
    }
  }

  /** Bytes the sink's buffers hold allocated: its columns', and its bodies' chunks until reset. */
  capacity(): number {
    let n = 0;
    for (const t of this.#tables.values()) n += t.table.capacity() + t.body.capacity();
    return n;
  }

  /**
   * Tables with at least one row, in first-use order (stable, so retries insert in the same
   * order), each with its body: views of the sink's buffers, valid until reset(). Rows added
   * afterwards go after them (a later entries() returns longer bodies; these stay as they are).
   */
  entries(): NativeEntry[] {
    if (this.#entries) return this.#entries;
    const out: NativeEntry[] = [];
    for (const [name, t] of this.#tables) {
      if (t.table.rows > 0) this.#writeBlock(t);
      if (t.rows > 0) out.push([name, t.body.chunks(), t.rows]);
    }
    this.#entries = out;
    return out;
  }

  get rowCount(): number {
    let n = 0;
    for (const t of this.#tables.values()) n += t.rows + t.table.rows;
    return n;
  }
}

/**
 * Emptied sinks and body chunks kept for the next batches, up to `maxBytes` of buffers in all:
 * a batch then writes into memory that is already allocated and paged in, instead of growing
 * fresh buffers (copies, page faults, garbage) every time. Chunks are pooled apart from sinks:
 * a batch's body is as large as its batch, and any sink can use the chunks of any other.
 */
export class NativeSinkPool implements ChunkSource {
  readonly #free: NativeRowSink[] = [];
  readonly #chunks: Buffer[] = [];
  readonly #maxBytes: number;
  #bytes = 0;

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  take(): NativeRowSink {
    const sink = this.#free.pop();
    if (sink === undefined) return new NativeRowSink(undefined, this);
    this.#bytes -= sink.capacity();
    return sink;
  }

  /** Takes back a sink whose inserts are done (its blocks are overwritten from now on). */
  give(sink: NativeRowSink): void {
    // Its chunks come back through giveChunks whether or not the sink is kept; then it holds only its columns.
    sink.reset();
    const bytes = sink.capacity();
    if (this.#bytes + bytes > this.#maxBytes) return;
    this.#free.push(sink);
    this.#bytes += bytes;
  }

  /** Takes back the chunks of a body (ChunkSource). */
  giveChunks(chunks: readonly Buffer[]): void {
    for (const chunk of chunks) {
      if (this.#bytes + CHUNK_BYTES > this.#maxBytes) return;
      this.#chunks.push(chunk);
      this.#bytes += CHUNK_BYTES;
    }
  }

  /** A body chunk (ChunkSource): a kept one, else a new one. */
  takeChunk(): Buffer {
    const chunk = this.#chunks.pop();
    if (chunk === undefined) return Buffer.allocUnsafeSlow(CHUNK_BYTES);
    this.#bytes -= CHUNK_BYTES;
    return chunk;
  }

  /** Bytes the kept sinks and chunks hold. */
  get bytes(): number {
    return this.#bytes;
  }
}
