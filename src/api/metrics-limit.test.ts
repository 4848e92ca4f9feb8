import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createApiFixture, gaugeRow, minutesAgoMs, msToNsText, qs, type ApiFixture } from './testing/fixture.ts';

// A tiny cap so a handful of rows crosses it.
const CAP = 3;
let f: ApiFixture;
const at = minutesAgoMs(10);

before(async () => {
  f = await createApiFixture({ maxMetricPoints: CAP });
  // Four series of one point each: one more than the cap when grouped by host.
  await f.store.insert(
    'otel_metrics_gauge',
    ['h1', 'h2', 'h3', 'h4'].map((host, i) => gaugeRow({ name: 'wide', attributes: { host }, timeNs: msToNsText(at), value: i })),
  );
});
after(() => f?.close());

const range = { from: at - 60_000, to: at + 60_000, step: '60s' };

test('a metrics query yielding more points than the cap is refused, naming groupBy', async () => {
  const res = await f.get(`/api/v1/metrics/query?${qs({ name: 'wide', agg: 'max', groupBy: 'host', ...range })}`);
  assert.equal(res.status, 400);
  assert.match(res.body.error, /^groupBy: the query yields more than 3 points/);
});

test('the same metric within the cap is answered', async () => {
  const res = await f.get(`/api/v1/metrics/query?${qs({ name: 'wide', agg: 'max', ...range })}`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal(res.body.series.length, 1);
  assert.equal(res.body.series[0].points.at(-1)[1], 3);
});
