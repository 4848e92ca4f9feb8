import { spanRequest } from '/work/main/bench/payloads.ts';
import { WIRE_MAPPERS, TextRowSink } from '/work/main/src/storage/rows/wire/index.ts';
import { RECORD_MAPPERS, RowSink } from '/work/main/src/storage/rows/index.ts';
const payloads = Array.from({ length: 100 }, (_, i) => Buffer.from(spanRequest(500, i + 1)));
function run(n: number) { const sink = new TextRowSink(); let rows = 0; for (let r = 0; r < n; r++) for (const p of payloads) rows += WIRE_MAPPERS.traces(p, 't', sink); return [rows, sink] as const; }
run(2);
let t = performance.now(); const [rows, sink] = run(3); let ms = performance.now() - t;
console.log('wire', Math.round(rows / ms * 1000), 'rows/s');
t = performance.now(); const e = sink.entries(); console.log('join ms', (performance.now() - t).toFixed(1), e[0][1].length);
function runObj(n: number) { const sink = new RowSink(); let rows = 0; for (let r = 0; r < n; r++) for (const p of payloads) rows += RECORD_MAPPERS.traces(p, 't', sink); return rows; }
runObj(1); t = performance.now(); const r2 = runObj(2); ms = performance.now() - t; console.log('object', Math.round(r2 / ms * 1000), 'rows/s');
