/**
 * The Store: ClickHouse SQL through @clickhouse/client, whether the engine is chDB in this
 * process or a ClickHouse server over HTTP. One schema, one set of queries, both modes.
 *
 * Every value that comes from a user goes in `params` and is referenced in SQL as
 * `{name:Type}` (ClickHouse server-side parameter binding); SQL text is never built from
 * user input.
 */
export type QueryParams = Record<string, unknown>;

/** Formats insertRaw takes. */
export type RawFormat = 'JSONEachRow' | 'Native';
export const RAW_FORMATS: readonly RawFormat[] = ['JSONEachRow', 'Native'];

/** An insertRaw body: text, bytes, or bytes in chunks sent in order (never joined into one buffer). */
export type RawBody = string | Buffer | readonly Buffer[];

/** Bytes of a raw body (text as UTF-8). */
export function rawBodyBytes(body: RawBody): number {
  if (typeof body === 'string') return Buffer.byteLength(body);
  if (Buffer.isBuffer(body)) return body.length;
  let n = 0;
  for (const chunk of body) n += chunk.length;
  return n;
}

export interface InsertOptions {
  /**
   * Deduplication token: ClickHouse drops an insert whose token it has already seen for the
   * table (within the table's deduplication window). The storage consumer derives it from
   * the bus offsets of the batch, so re-inserting a batch after a crash stores nothing twice.
   */
  dedupToken?: string;
}

export interface Store {
  /** Runs a SELECT and returns its rows (JSONEachRow, 64-bit integers as strings). */
  query<T = Record<string, unknown>>(sql: string, params?: QueryParams): Promise<T[]>;
  /** Runs a statement that returns no rows (DDL, SET, ...). */
  command(sql: string, params?: QueryParams): Promise<void>;
  /** Inserts rows (objects keyed by column name) into a table. */
  insert(table: string, rows: ReadonlyArray<Record<string, unknown>>, options?: InsertOptions): Promise<void>;
  /**
   * Inserts a pre-serialized body into a table: JSONEachRow (one JSON object per line, as text
   * or UTF-8 bytes) or Native (ClickHouse's columnar blocks, bytes), whole or in chunks. Optional so test doubles
   * written against the row-object API keep working; both real stores have it.
   */
  insertRaw?(table: string, format: RawFormat, body: RawBody, options?: InsertOptions): Promise<void>;
  /** True when the engine answers. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
  /** 'chdb' (in process) or 'clickhouse' (server over HTTP). */
  readonly kind: 'chdb' | 'clickhouse';
}
