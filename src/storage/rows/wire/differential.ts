/**
 * Test support: runs the wire mapper and the reference (the codec's decodeRequest + the object
 * row mappers) on the same bytes and reports how they differ.
 */
import { OtlpDecodeError, decodeRequest } from '../../../otlp/index.ts';
import type { Signal } from '../../../telemetry/signals.ts';
import { LOGS_TABLE, TRACES_TABLE } from '../../schema.ts';
import { METRIC_ROW_TABLES, appendLogRows, appendMetricRows, appendTraceRows, emptyMetricRows, type Row } from '../index.ts';
import { TextRowSink, WIRE_MAPPERS } from './index.ts';

export type Outcome = { ok: true; tables: Map<string, unknown[]>; rows: number } | { ok: false; error: unknown };

/** The rows the object mappers produce (as ClickHouse receives them: through JSON), per non-empty table. */
export function referenceRows(signal: Signal, bytes: Uint8Array, tenant: string): Outcome {
  let decoded;
  try {
    decoded = decodeRequest(signal, bytes);
  } catch (error) {
    return { ok: false, error };
  }
  const tables = new Map<string, Row[]>();
  if (signal === 'traces') {
    const rows: Row[] = [];
    appendTraceRows(decoded as never, tenant, rows as never);
    tables.set(TRACES_TABLE, rows);
  } else if (signal === 'logs') {
    const rows: Row[] = [];
    appendLogRows(decoded as never, tenant, rows as never);
    tables.set(LOGS_TABLE, rows);
  } else {
    const m = emptyMetricRows();
    appendMetricRows(decoded as never, tenant, m);
    for (const [key, table] of METRIC_ROW_TABLES) tables.set(table, m[key]);
  }
  const out = new Map<string, unknown[]>();
  let rows = 0;
  for (const [table, list] of tables) {
    if (list.length === 0) continue;
    out.set(table, JSON.parse(JSON.stringify(list)) as unknown[]);
    rows += list.length;
  }
  return { ok: true, tables: out, rows };
}

/** The wire mapper's lines, parsed, per non-empty table. */
export function wireRows(signal: Signal, bytes: Uint8Array, tenant: string, sink = new TextRowSink()): Outcome {
  let rows: number;
  try {
    rows = WIRE_MAPPERS[signal](bytes, tenant, sink);
  } catch (error) {
    return { ok: false, error };
  }
  const tables = new Map<string, unknown[]>();
  for (const [table, bytes, count] of sink.entries()) {
    // Fatal decoding: the body must be valid UTF-8 as well as the right JSON.
    const body = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
    if (!body.endsWith('\n')) throw new Error(`${table}: body does not end in a newline`);
    const lines = body.slice(0, -1).split('\n');
    if (lines.length !== count) throw new Error(`${table}: ${lines.length} lines but a row count of ${count}`);
    tables.set(table, lines.map((l) => JSON.parse(l) as unknown));
  }
  return { ok: true, tables, rows };
}

export function isDecodeError(err: unknown): err is OtlpDecodeError {
  return err instanceof OtlpDecodeError;
}
