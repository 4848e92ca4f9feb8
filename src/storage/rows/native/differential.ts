/**
 * Test support: the Native encoders against the JSONEachRow wire mappers, through chDB. The
 * same request bytes go through both, each under its own tenant; both must accept or reject
 * alike, and what ClickHouse stores from each must be the same rows.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { OtlpDecodeError } from '../../../otlp/index.ts';
import type { Signal } from '../../../telemetry/signals.ts';
import { createStore } from '../../clickhouse-store.ts';
import { migrate } from '../../migrate.ts';
import { LOGS_TABLE, METRIC_TABLES, TRACES_TABLE } from '../../schema.ts';
import type { Store } from '../../store.ts';
import { TextRowSink, WIRE_MAPPERS } from '../wire/index.ts';
import { NATIVE_MAPPERS, NativeRowSink } from './index.ts';

export const TABLES = [TRACES_TABLE, LOGS_TABLE, ...Object.values(METRIC_TABLES)];

/** A chDB store in a temporary folder with the schema migrated and TTLs removed (fixtures dated 1970 stay). */
export async function openTestStore(prefix: string): Promise<{ store: Store; close(): Promise<void> }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const store = await createStore({ url: `chdb://${dir}` });
  await migrate(store, { traces: 3650, logs: 3650, metrics: 3650 });
  for (const table of TABLES) await store.command(`ALTER TABLE ${table} REMOVE TTL`);
  return {
    store,
    async close() {
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
      fs.rmSync(`${dir}-insert-files`, { recursive: true, force: true });
    },
  };
}

/**
 * A table's rows of one tenant, as ClickHouse's own JSONEachRow text of every column but
 * TenantId (NaN and infinities spelled out; compared as text, so -0 and 0 differ), sorted.
 */
export async function storedRows(store: Store, table: string, tenant: string): Promise<string[]> {
  const rows = await store.query<{ line: string }>(
    `SELECT formatRow('JSONEachRow', * EXCEPT (TenantId, IngestBatch)) AS line FROM ${table} WHERE TenantId = {t:String}
     ORDER BY line SETTINGS output_format_json_quote_denormals = 1`,
    { t: tenant },
  );
  return rows.map((r) => r.line).sort();
}

/** Where two row texts first differ, with some context (rows may be megabytes long). */
function firstDifference(actual: string, expected: string): string {
  let k = 0;
  while (k < actual.length && actual[k] === expected[k]) k++;
  const around = (s: string) => JSON.stringify(s.slice(Math.max(0, k - 150), k + 150));
  return `at character ${k}:\n  Native: ${around(actual)}\n  JSON:   ${around(expected)}`;
}

let pairs = 0;

/** Requests mapped by both paths, under tenants of their own; stored and compared by check(). */
export class Differential {
  readonly json = new TextRowSink();
  readonly native: NativeRowSink;
  readonly jsonTenant: string;
  readonly nativeTenant: string;
  accepted = 0;
  rejected = 0;

  /** `blockRows`: rows per Native block of the native sink's bodies (the sink's default unless given). */
  constructor(label: string, blockRows?: number) {
    this.native = new NativeRowSink(blockRows);
    const n = ++pairs;
    // Unicode and quotes in the tenant too: it is a LowCardinality value like any other.
    this.jsonTenant = `json-"é"-${label}-${n}`;
    this.nativeTenant = `native-"é"-${label}-${n}`;
  }

  /** Maps the bytes with both; asserts they agree on accepting them (and on the row count). Returns whether accepted. */
  feed(signal: Signal, bytes: Uint8Array, label: string): boolean {
    let jsonRows: number | Error;
    let nativeRows: number | Error;
    try {
      jsonRows = WIRE_MAPPERS[signal](bytes, this.jsonTenant, this.json);
    } catch (err) {
      jsonRows = err as Error;
    }
    try {
      nativeRows = NATIVE_MAPPERS[signal](bytes, this.nativeTenant, this.native);
    } catch (err) {
      nativeRows = err as Error;
    }
    if (typeof jsonRows === 'number') {
      assert.equal(nativeRows, jsonRows, `${label}: rows (Native threw: ${nativeRows instanceof Error ? nativeRows.message : '-'})`);
      this.accepted++;
      return true;
    }
    assert.ok(jsonRows instanceof OtlpDecodeError, `${label}: the JSON path threw ${String(jsonRows)}`);
    assert.ok(nativeRows instanceof OtlpDecodeError, `${label}: the JSON path rejects (${jsonRows.message}) but Native gave ${String(nativeRows)}`);
    this.rejected++;
    return false;
  }

  /** Inserts both sinks, then asserts every table holds the same rows for both tenants; returns rows per table. */
  async check(store: Store, label: string): Promise<Map<string, number>> {
    const token = `${label}-${this.jsonTenant}`;
    for (const [table, body] of this.json.entries()) await store.insertRaw!(table, 'JSONEachRow', body, { dedupToken: `${token}:json:${table}` });
    for (const [table, block] of this.native.entries()) await store.insertRaw!(table, 'Native', block, { dedupToken: `${token}:native:${table}` });
    const counts = new Map<string, number>();
    for (const table of TABLES) {
      const expected = await storedRows(store, table, this.jsonTenant);
      const actual = await storedRows(store, table, this.nativeTenant);
      assert.equal(actual.length, expected.length, `${label}: ${table}: row count`);
      for (let i = 0; i < expected.length; i++) {
        if (actual[i] !== expected[i]) assert.fail(`${label}: ${table}: row ${i} of ${expected.length} differs\n${firstDifference(actual[i], expected[i])}`);
      }
      counts.set(table, expected.length);
    }
    return counts;
  }
}
