import { spanRequest } from '../../../../bench/payloads.ts';
import { WIRE_MAPPERS, TextRowSink } from './index.ts';
const p = Buffer.from(spanRequest(500, 1));
let rows = 0;
const t0 = performance.now();
for (let i = 0; i < 400; i++) { const sink = new TextRowSink(); rows += WIRE_MAPPERS.traces(p, 't', sink); }
const ms = performance.now() - t0;
console.log(Math.round(rows / ms * 1000), 'rows/s');
