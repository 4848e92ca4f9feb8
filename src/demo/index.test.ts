import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startFakeGateway, type FakeGateway } from './fake-gateway.ts';
import { runDemo } from './index.ts';
import { decodeLogs, decodeMetricsPlain, decodeSpans, type Plain } from './test-helpers.ts';

function dataPointsIn(req: Plain): number {
  let n = 0;
  for (const rm of req.resourceMetrics) {
    for (const sm of rm.scopeMetrics) {
      for (const m of sm.metrics) n += m[m.data].dataPoints.length;
    }
  }
  return n;
}

describe('runDemo', { timeout: 30_000 }, () => {
  let gw: FakeGateway;
  before(async () => {
    gw = await startFakeGateway();
  });
  after(async () => {
    await gw.close();
  });

  test('sends traces, logs and metrics for the duration and returns what was accepted', async () => {
    gw.requests.length = 0;
    const lines: string[] = [];
    const started = Date.now();
    const totals = await runDemo({ endpoint: gw.endpoint, apiKey: 'demo-key', durationSec: 2.5, rate: 40, seed: 5, log: (l) => lines.push(l) });
    const took = Date.now() - started;
    assert.ok(took >= 2400 && took < 6000, `ran for ${took} ms`);

    const byPath = (p: string) => gw.requests.filter((r) => r.path === p);
    const traces = byPath('/v1/traces');
    const logs = byPath('/v1/logs');
    const metrics = byPath('/v1/metrics');
    assert.ok(traces.length >= 2 && logs.length >= 2, `traces ${traces.length}, logs ${logs.length} requests`);
    // One flush right away, one when the default 2 s period comes round, one at the end.
    assert.equal(metrics.length, 3);
    for (const r of gw.requests) assert.equal(r.headers.authorization, 'Bearer demo-key');

    const spans = traces.flatMap((r) => decodeSpans(r.body));
    const records = logs.flatMap((r) => decodeLogs(r.body));
    const points = metrics.reduce((n, r) => n + dataPointsIn(decodeMetricsPlain(r.body)), 0);
    assert.deepEqual(totals, { requests: gw.requests.length, spans: spans.length, logs: records.length, dataPoints: points, errors: 0 });
    // Roughly 40 traces/s for 2.5 s.
    const roots = spans.filter((s) => s.parentSpanId === '').length;
    assert.ok(roots > 50 && roots < 160, `${roots} traces`);

    const traceIds = new Set(spans.map((s) => s.traceId));
    for (const l of records) assert.ok(traceIds.has(l.traceId), `log '${l.body}' has a trace id that was never sent`);

    const last = decodeMetricsPlain(metrics.at(-1)!.body);
    const counted = last.resourceMetrics
      .flatMap((rm: Plain) => rm.scopeMetrics[0].metrics)
      .filter((m: Plain) => m.name === 'http.server.request.count' && m.sum)
      .flatMap((m: Plain) => m.sum.dataPoints)
      .reduce((n: number, p: Plain) => n + Number(p.asInt), 0);
    assert.equal(counted, spans.filter((s) => s.kind === 2).length, 'the final flush counts every server span sent');
    assert.match(lines[0], /^demo: seed 5;/);
    assert.match(lines.at(-1)!, /sent \d+ spans, \d+ logs, \d+ data points in \d+ requests \(0 failed\)/);
  });

  test('stops promptly when the signal aborts', async () => {
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(), 1200);
    const totals = await runDemo({ endpoint: gw.endpoint, apiKey: 'k', rate: 5, signal: controller.signal });
    const took = Date.now() - started;
    assert.ok(took < 2500, `stopped ${took} ms after start`);
    assert.ok(totals.requests >= 2, 'sent something before the abort');
    assert.equal(totals.errors, 0);
  });

  test('counts and reports requests the gateway refuses', async () => {
    for (let i = 0; i < 20; i++) gw.script.push({ status: 401, headers: { 'content-type': 'text/plain' }, body: 'unknown API key' });
    const lines: string[] = [];
    const totals = await runDemo({ endpoint: gw.endpoint, apiKey: 'bad', durationSec: 1, rate: 20, log: (l) => lines.push(l) });
    gw.script.length = 0;
    assert.ok(totals.errors > 0);
    assert.equal(totals.errors, totals.requests);
    assert.equal(totals.spans + totals.logs + totals.dataPoints, 0);
    assert.ok(lines.some((l) => /HTTP 401 .*unknown API key \(not retried\)/.test(l)), lines.join('\n'));
  });
});
