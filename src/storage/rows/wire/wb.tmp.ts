import { spanRequest } from '../../../../bench/payloads.ts';
import { WIRE_MAPPERS, TextRowSink } from './index.ts';
const payloads = Array.from({ length: 100 }, (_, i) => Buffer.from(spanRequest(500, i + 1)));
let mapMs = 0, joinMs = 0, rows = 0;
for (let round = 0; round < 8; round++) {
  const sink = new TextRowSink();
  let t = performance.now();
  let n = 0;
  for (const p of payloads) n += WIRE_MAPPERS.traces(p, 't', sink);
  const m = performance.now() - t;
  t = performance.now(); const e = sink.entries(); const j = performance.now() - t;
  if (round >= 3) { mapMs += m; joinMs += j; rows += n; }
  if (e.length !== 1) throw new Error();
}
console.log('wire map', Math.round(rows / mapMs * 1000), 'rows/s; map+join', Math.round(rows / (mapMs + joinMs) * 1000));
