import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { opentelemetry } from '../otlp/index.ts';
import { ExponentialHistogram } from './aggregators.ts';
import { decodeMetricsPlain, decodeSpans, encodeMetrics, encodeTraces, toBig, type Plain } from './test-helpers.ts';
import { Workload } from './workload.ts';

const M = opentelemetry.proto.metrics.v1;
const KIND = opentelemetry.proto.trace.v1.Span.SpanKind;
const START = Date.UTC(2025, 0, 15, 12, 0, 0);
const startNs = BigInt(START) * 1_000_000n;

function metricsOf(req: Plain): Map<string, Plain> {
  const byService = new Map<string, Plain>();
  for (const rm of req.resourceMetrics) {
    const service: string = rm.resource.attributes.find((kv: Plain) => kv.key === 'service.name').value.stringValue;
    const metrics = new Map<string, Plain>();
    for (const sm of rm.scopeMetrics) for (const m of sm.metrics) metrics.set(m.name, m);
    byService.set(service, metrics);
  }
  return byService;
}

function attr(point: Plain, key: string): string {
  const v = point.attributes.find((kv: Plain) => kv.key === key)?.value;
  return String(v?.stringValue ?? v?.intValue);
}

function run(seconds: number) {
  const w = new Workload({ seed: 99, startMs: START, rate: 25 });
  const serverSpans = new Map<string, number>();
  for (let t = 0; t < seconds; t += 5) {
    const win = w.window(START + t * 1000, START + (t + 5) * 1000);
    for (const s of decodeSpans(encodeTraces(win.traces))) if (s.kind === KIND.SPAN_KIND_SERVER) serverSpans.set(s.service, (serverSpans.get(s.service) ?? 0) + 1);
  }
  return { w, serverSpans };
}

describe('shop metrics', () => {
  test('every point type is present with valid structure and cumulative start time', () => {
    const { w } = run(30);
    const at = START + 30_000;
    const exported = w.metricsAt(at);
    const req: Plain = decodeMetricsPlain(encodeMetrics(exported.request));
    const types = new Set<string>();
    let points = 0;
    for (const rm of req.resourceMetrics) {
      for (const sm of rm.scopeMetrics) {
        for (const m of sm.metrics) {
          assert.ok(m.data, `${m.name} has no data`);
          types.add(m.data);
          if (m.sum) {
            assert.equal(m.sum.aggregationTemporality, M.AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE);
            assert.equal(m.sum.isMonotonic, true);
            for (const p of m.sum.dataPoints) assert.equal(toBig(p.startTimeUnixNano), startNs, `${m.name} start time`);
            points += m.sum.dataPoints.length;
          }
          if (m.gauge) {
            for (const p of m.gauge.dataPoints) assert.equal(toBig(p.timeUnixNano), BigInt(at) * 1_000_000n);
            points += m.gauge.dataPoints.length;
          }
          if (m.histogram) {
            assert.equal(m.histogram.aggregationTemporality, M.AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE);
            for (const p of m.histogram.dataPoints) {
              assert.equal(p.bucketCounts.length, p.explicitBounds.length + 1, `${m.name} bucket count`);
              const total = p.bucketCounts.reduce((a: number, c: Plain) => a + Number(c), 0);
              assert.equal(total, Number(p.count), `${m.name} buckets add up to count`);
              assert.ok(p.min <= p.max, `${m.name} min <= max`);
              assert.ok(p.sum >= p.min * total - 1e-9 && p.sum <= p.max * total + 1e-9, `${m.name} sum within count*[min,max]`);
              for (let i = 1; i < p.explicitBounds.length; i++) assert.ok(p.explicitBounds[i] > p.explicitBounds[i - 1], 'bounds ascend');
              // The max sits in the last non-empty bucket.
              const last = p.bucketCounts.findLastIndex((c: Plain) => Number(c) > 0);
              if (last < p.explicitBounds.length) assert.ok(p.max <= p.explicitBounds[last]);
              if (last > 0) assert.ok(p.max > p.explicitBounds[last - 1]);
              assert.equal(toBig(p.startTimeUnixNano), startNs);
              for (const e of p.exemplars) assert.equal(e.traceId.length, 16);
            }
            points += m.histogram.dataPoints.length;
          }
          if (m.exponentialHistogram) {
            for (const p of m.exponentialHistogram.dataPoints) {
              const buckets = p.positive.bucketCounts.reduce((a: number, c: Plain) => a + Number(c), 0);
              assert.ok(Number(p.count) > 0, 'orders were placed');
              assert.equal(Number(p.zeroCount) + buckets, Number(p.count), 'exponential buckets add up to count');
              const base = 2 ** (2 ** -p.scale);
              assert.ok(p.min > base ** p.positive.offset, 'min is above the first bucket start');
              assert.ok(p.max <= base ** (p.positive.offset + p.positive.bucketCounts.length) * (1 + 1e-9), 'max is within the last bucket');
            }
            points += m.exponentialHistogram.dataPoints.length;
          }
          if (m.summary) {
            for (const p of m.summary.dataPoints) {
              assert.ok(Number(p.count) > 0);
              const qs = p.quantileValues;
              assert.deepEqual(qs.map((q: Plain) => q.quantile), [0, 0.5, 0.9, 0.99, 1]);
              for (let i = 1; i < qs.length; i++) assert.ok(qs[i].value >= qs[i - 1].value, 'quantile values ascend');
              assert.ok(p.sum >= qs[0].value * Number(p.count) - 1e-9);
            }
            points += m.summary.dataPoints.length;
          }
        }
      }
    }
    assert.deepEqual([...types].toSorted(), ['exponentialHistogram', 'gauge', 'histogram', 'sum', 'summary']);
    assert.equal(points, exported.dataPoints, 'reported data point count matches the request');
  });

  test('request counts and duration counts match the server spans, and stay cumulative', () => {
    const { w, serverSpans } = run(20);
    const first = metricsOf(decodeMetricsPlain(encodeMetrics(w.metricsAt(START + 20_000).request)));
    for (const [service, expected] of serverSpans) {
      const m = first.get(service);
      const counted = m.get('http.server.request.count').sum.dataPoints.reduce((a: number, p: Plain) => a + Number(p.asInt), 0);
      const observed = m.get('http.server.request.duration').histogram.dataPoints.reduce((a: number, p: Plain) => a + Number(p.count), 0);
      assert.equal(counted, expected, `${service} request count`);
      assert.equal(observed, expected, `${service} histogram count`);
      for (const p of m.get('http.server.request.count').sum.dataPoints) assert.match(attr(p, 'http.response.status_code'), /^\d{3}$/);
    }
    const inv = first.get('inventory').get('db.client.connections.usage').gauge.dataPoints;
    assert.equal(inv.reduce((a: number, p: Plain) => a + Number(p.asInt), 0), 20, 'used + idle = pool size');

    w.window(START + 20_000, START + 30_000);
    const second = metricsOf(decodeMetricsPlain(encodeMetrics(w.metricsAt(START + 30_000).request)));
    for (const service of serverSpans.keys()) {
      const before = first.get(service).get('process.cpu.time').sum.dataPoints;
      const after = second.get(service).get('process.cpu.time').sum.dataPoints;
      for (let i = 0; i < before.length; i++) assert.ok(after[i].asDouble > before[i].asDouble, `${service} cpu time grows`);
      const c1 = first.get(service).get('http.server.request.count').sum.dataPoints.reduce((a: number, p: Plain) => a + Number(p.asInt), 0);
      const c2 = second.get(service).get('http.server.request.count').sum.dataPoints.reduce((a: number, p: Plain) => a + Number(p.asInt), 0);
      assert.ok(c2 > c1, `${service} count is cumulative`);
    }
  });

  test('the first flush, before any request, is valid and has no request series', () => {
    const w = new Workload({ seed: 1, startMs: START, rate: 5 });
    const req = decodeMetricsPlain(encodeMetrics(w.metricsAt(START).request));
    const byService = metricsOf(req);
    assert.equal(byService.size, 5);
    for (const metrics of byService.values()) {
      assert.equal(metrics.has('http.server.request.count'), false);
      assert.ok(metrics.get('process.memory.usage').gauge.dataPoints[0].asInt);
    }
  });

  test('exponential histogram indexes values into (base^i, base^(i+1)]', () => {
    const h = new ExponentialHistogram(3);
    const base = 2 ** (1 / 8);
    for (const v of [0.001, 0.5, 1, 3, 17.25, 1000]) {
      const i = h.indexOf(v);
      assert.ok(v > base ** i * (1 - 1e-12) && v <= base ** (i + 1) * (1 + 1e-12), `value ${v} in bucket ${i}`);
    }
    assert.equal(h.indexOf(1), -1, 'exactly 1 = base^0 belongs to bucket -1');
    assert.throws(() => h.record(-1), /values >= 0/);
  });
});
