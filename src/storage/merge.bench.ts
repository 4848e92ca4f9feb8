/**
 * What the store's background merges cost per schema choice: span parts inserted with merges
 * stopped, then merged into one (OPTIMIZE FINAL), timed; each variant of otel_traces beside the
 * shipped one in the same run, interleaved, medians of RUNS runs.
 *   - shipped: the migrated table (resource attribute values, scope name and version as
 *     LowCardinality since migration 5);
 *   - strings: the same with those columns as Strings, as before migration 5 (the baseline);
 *   - lc-span-attrs: shipped plus LowCardinality span attribute values (not shipped: real
 *     values such as URLs, statements and ids are not low-cardinality; the synthetic spans'
 *     are, so this shows an upper bound).
 * Run: npx node src/storage/merge.bench.ts [parts=20] [runs=3]. Each part is 50k spans of
 * bench/payloads.ts. Machines differ: compare the variants, not the times.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spanRequest } from '../../bench/payloads.ts';
import { createStore } from './clickhouse-store.ts';
import { migrate } from './migrate.ts';
import { NATIVE_MAPPERS, NativeRowSink } from './rows/native/index.ts';
import { TRACES_TABLE } from './schema.ts';

const PARTS = Number(process.argv[2] ?? 20);
const RUNS = Number(process.argv[3] ?? process.env.BENCH_RUNS ?? 3);
const LC_MAP = 'Map(LowCardinality(String), LowCardinality(String))';
const STRING_MAP = 'Map(LowCardinality(String), String)';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ollystack-merge-bench-'));
const store = await createStore({ url: `chdb://${dir}` });
try {
  await migrate(store, { traces: 7, logs: 7, metrics: 7 });
  // Four distinct 50k-span bodies, as the consumer writes them.
  const bodies: Buffer[] = [];
  for (let b = 0; b < 4; b++) {
    const sink = new NativeRowSink();
    sink.ingestBatch = BigInt(b + 1) << 32n;
    for (let i = 0; i < 100; i++) NATIVE_MAPPERS.traces(Buffer.from(spanRequest(500, b * 100 + i)), 'bench', sink as never);
    bodies.push(Buffer.concat(sink.entries()[0][1]));
  }
  const [{ ddl }] = await store.query<{ ddl: string }>(
    `SELECT create_table_query AS ddl FROM system.tables WHERE database = currentDatabase() AND name = {t:String}`,
    { t: TRACES_TABLE },
  );
  const retype = (text: string, column: string, from: string, to: string) => {
    const out = text.replace(`\`${column}\` ${to}`, `\`${column}\` ${from}`);
    if (out === text) throw new Error(`merge bench: ${column} is not ${to} in the migrated table`);
    return out;
  };
  const variants: Record<string, string> = {
    shipped: ddl,
    strings: ['ScopeName', 'ScopeVersion'].reduce((t, c) => retype(t, c, 'String', 'LowCardinality(String)'), retype(ddl, 'ResourceAttributes', STRING_MAP, LC_MAP)),
    'lc-span-attrs': retype(ddl, 'SpanAttributes', LC_MAP, STRING_MAP),
  };
  const results = new Map<string, { merge: number[]; bytes: number[] }>();
  for (let run = 0; run < RUNS; run++) {
    for (const [name, text] of Object.entries(variants)) {
      const table = `merge_bench_${name.replaceAll('-', '_')}`;
      await store.command(`DROP TABLE IF EXISTS ${table}`);
      await store.command(text.replace(/^CREATE TABLE \S+/, `CREATE TABLE ${table}`));
      await store.command(`SYSTEM STOP MERGES ${table}`);
      for (let i = 0; i < PARTS; i++) await store.insertRaw!(table, 'Native', bodies[i % bodies.length], { dedupToken: `${run}:${i}` });
      await store.command(`SYSTEM START MERGES ${table}`);
      const t0 = performance.now();
      await store.command(`OPTIMIZE TABLE ${table} FINAL`);
      const ms = performance.now() - t0;
      const [{ bytes }] = await store.query<{ bytes: string }>(`SELECT sum(data_compressed_bytes) AS bytes FROM system.parts WHERE database = currentDatabase() AND table = {t:String} AND active`, { t: table });
      const r = results.get(name) ?? { merge: [], bytes: [] };
      r.merge.push(ms);
      r.bytes.push(Number(bytes));
      results.set(name, r);
      await store.command(`DROP TABLE ${table}`);
      process.stderr.write(`run ${run + 1}/${RUNS} ${name} done\n`);
    }
  }
  const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1];
  const base = results.get('strings')!;
  console.log(`\nmerging ${PARTS} parts of 50,000 spans into one (otel_traces variants), median of ${RUNS}:`);
  console.log('| variant | merge s | spans merged/s | vs strings | stored MB | vs strings |');
  console.log('|---|---|---|---|---|---|');
  for (const [name, r] of results) {
    const ms = median(r.merge);
    const mb = median(r.bytes) / 1e6;
    const rows = PARTS * 50_000;
    console.log(`| ${name} | ${(ms / 1000).toFixed(2)} | ${Math.round(rows / (ms / 1000)).toLocaleString('en-US')} | ${(ms / median(base.merge)).toFixed(2)}x time | ${mb.toFixed(1)} | ${(mb / (median(base.bytes) / 1e6)).toFixed(2)}x |`);
  }
} finally {
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });
}
