import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { opentelemetry } from '../otlp/index.ts';
import { decodeLogs, decodeSpans, encodeLogs, encodeMetrics, encodeTraces, type FlatSpan } from './test-helpers.ts';
import { Workload } from './workload.ts';

const KIND = opentelemetry.proto.trace.v1.Span.SpanKind;
const STATUS_ERROR = opentelemetry.proto.trace.v1.Status.StatusCode.STATUS_CODE_ERROR;
const START = Date.UTC(2025, 0, 15, 12, 0, 0);
// No burst in the first minute unless a test asks for one.
const QUIET = { firstAfterSec: 3600, everySec: 7200, lengthSec: 45 };

function minute(seed: number, rate = 20) {
  const w = new Workload({ seed, startMs: START, rate, burst: QUIET });
  const win = w.window(START, START + 60_000);
  return { w, win, spans: decodeSpans(encodeTraces(win.traces)), logs: decodeLogs(encodeLogs(win.logs)) };
}

function byTrace(spans: FlatSpan[]): Map<string, FlatSpan[]> {
  const m = new Map<string, FlatSpan[]>();
  for (const s of spans) {
    let list = m.get(s.traceId);
    if (!list) m.set(s.traceId, (list = []));
    list.push(s);
  }
  return m;
}

describe('workload', () => {
  test('is deterministic for a seed and the same windows, and differs across seeds', () => {
    const a = new Workload({ seed: 7, startMs: START, rate: 30 });
    const b = new Workload({ seed: 7, startMs: START, rate: 30 });
    const c = new Workload({ seed: 8, startMs: START, rate: 30 });
    for (let i = 0; i < 3; i++) {
      const from = START + i * 1000;
      const wa = a.window(from, from + 1000);
      const wb = b.window(from, from + 1000);
      const wc = c.window(from, from + 1000);
      assert.deepEqual(encodeTraces(wa.traces), encodeTraces(wb.traces));
      assert.deepEqual(encodeLogs(wa.logs), encodeLogs(wb.logs));
      assert.notDeepEqual(encodeTraces(wa.traces), encodeTraces(wc.traces));
    }
    assert.deepEqual(encodeMetrics(a.metricsAt(START + 3000).request), encodeMetrics(b.metricsAt(START + 3000).request));
  });

  test('a run started at another time reuses no trace id', () => {
    const a = new Workload({ seed: 7, startMs: START, rate: 30 }).window(START, START + 2000);
    const b = new Workload({ seed: 7, startMs: START + 1, rate: 30 }).window(START + 1, START + 2001);
    const idsA = new Set(decodeSpans(encodeTraces(a.traces)).map((s) => s.traceId));
    for (const s of decodeSpans(encodeTraces(b.traces))) assert.equal(idsA.has(s.traceId), false);
  });

  test('arrivals follow the rate and the counts match the encoded requests', () => {
    const { win, spans, logs } = minute(3, 20);
    // Poisson(1200): 6 standard deviations is about 208.
    assert.ok(Math.abs(win.traceCount - 1200) < 210, `traces in a minute at 20/s: ${win.traceCount}`);
    assert.equal(spans.length, win.spanCount);
    assert.equal(logs.length, win.logCount);
    assert.equal(byTrace(spans).size, win.traceCount);
    const startNs = BigInt(START) * 1_000_000n;
    const endNs = BigInt(START + 60_000) * 1_000_000n;
    for (const s of spans) assert.ok(s.start >= startNs, `${s.service} ${s.name} starts before the window`);
    for (const s of spans.filter((x) => x.parentSpanId === '')) assert.ok(s.start < endNs, `trace ${s.traceId} starts after the window`);
  });

  test('traces link parent and child across services, within their parents in time', () => {
    const { spans } = minute(11);
    const traces = byTrace(spans);
    let checkoutTraces = 0;
    for (const [traceId, list] of traces) {
      const ids = new Map(list.map((s) => [s.spanId, s]));
      assert.equal(ids.size, list.length, `duplicate span id in trace ${traceId}`);
      const roots = list.filter((s) => s.parentSpanId === '');
      assert.equal(roots.length, 1, `trace ${traceId} has ${roots.length} roots`);
      assert.equal(roots[0].service, 'frontend');
      assert.equal(roots[0].kind, KIND.SPAN_KIND_SERVER);
      for (const s of list) {
        assert.ok(s.end >= s.start, `${s.name} ends before it starts`);
        if (s.parentSpanId === '') continue;
        const parent = ids.get(s.parentSpanId);
        assert.ok(parent, `span ${s.name} of ${s.service} has a parent missing from trace ${traceId}`);
        assert.ok(s.start >= parent.start && s.end <= parent.end, `${s.service} ${s.name} is not within its parent ${parent.service} ${parent.name}`);
        // A server span's parent is the client span of another service: the cross-service link.
        if (s.kind === KIND.SPAN_KIND_SERVER) {
          assert.equal(parent.kind, KIND.SPAN_KIND_CLIENT);
          assert.notEqual(parent.service, s.service);
        }
      }
      if (roots[0].name === 'POST /api/checkout') {
        checkoutTraces++;
        const services = new Set(list.map((s) => s.service));
        assert.ok(services.size >= 2, `checkout trace ${traceId} spans only ${[...services]}`);
        if (roots[0].statusCode !== STATUS_ERROR) assert.deepEqual([...services].toSorted(), ['checkout', 'frontend', 'inventory', 'payments', 'shipping']);
      }
    }
    assert.ok(checkoutTraces > 100, `only ${checkoutTraces} checkout traces in a minute`);
  });

  test('spans carry resources and semantic-convention attributes', () => {
    const { spans } = minute(5);
    const kinds = new Set<number>();
    let pg = 0;
    let redis = 0;
    for (const s of spans) {
      for (const key of ['service.name', 'service.version', 'deployment.environment', 'host.name']) assert.ok(s.resource.get(key), `${s.service} resource lacks ${key}`);
      kinds.add(s.kind);
      if (s.kind === KIND.SPAN_KIND_SERVER) {
        for (const key of ['http.request.method', 'http.route', 'url.path', 'server.address', 'http.response.status_code']) assert.ok(s.attributes.has(key), `${s.service} ${s.name} lacks ${key}`);
        assert.equal(s.name, `${s.attributes.get('http.request.method')} ${s.attributes.get('http.route')}`);
      }
      const db = s.attributes.get('db.system');
      if (db === 'postgresql') {
        pg++;
        assert.equal(s.service, 'inventory');
        assert.match(String(s.attributes.get('db.statement')), /^(SELECT|UPDATE) /);
      }
      if (db === 'redis') {
        redis++;
        assert.equal(s.service, 'checkout');
        assert.equal(s.kind, KIND.SPAN_KIND_CLIENT);
      }
    }
    assert.deepEqual([...kinds].toSorted(), [KIND.SPAN_KIND_INTERNAL, KIND.SPAN_KIND_SERVER, KIND.SPAN_KIND_CLIENT].toSorted());
    assert.ok(pg > 0 && redis > 0, `postgres spans ${pg}, redis spans ${redis}`);
  });

  test('error spans carry an exception event, and errors stay rare outside a burst', () => {
    const { spans } = minute(13);
    const errors = spans.filter((s) => s.statusCode === STATUS_ERROR);
    assert.ok(errors.length > 0, 'a minute of traffic should contain some errors');
    for (const s of errors) {
      const ex = s.events.find((e) => e.name === 'exception');
      assert.ok(ex, `error span ${s.service} ${s.name} has no exception event`);
      for (const key of ['exception.type', 'exception.message', 'exception.stacktrace']) assert.ok(String(ex.attributes.get(key) ?? '').length > 0, `exception event lacks ${key}`);
    }
    const roots = spans.filter((s) => s.parentSpanId === '');
    const failedRoots = roots.filter((s) => s.statusCode === STATUS_ERROR).length;
    assert.ok(failedRoots / roots.length < 0.04, `baseline error rate ${failedRoots}/${roots.length}`);
    // Status codes agree with status: only 5xx server spans are errors.
    for (const s of spans.filter((x) => x.kind === KIND.SPAN_KIND_SERVER)) {
      assert.equal(s.statusCode === STATUS_ERROR, Number(s.attributes.get('http.response.status_code')) >= 500, `${s.service} ${s.name}`);
    }
  });

  test('logs point at spans of the same window and follow their span', () => {
    const { spans, logs } = minute(17);
    const spanById = new Map(spans.map((s) => [`${s.traceId}/${s.spanId}`, s]));
    const severities = new Set<string>();
    for (const l of logs) {
      const span = spanById.get(`${l.traceId}/${l.spanId}`);
      assert.ok(span, `log '${l.body}' points at a span that is not in the traces`);
      assert.equal(span.service, l.service, `log '${l.body}' of ${l.service} points at a ${span.service} span`);
      severities.add(`${l.severityText}:${l.severityNumber}`);
      assert.ok(l.body.length > 0);
    }
    assert.ok(severities.has('INFO:9') && severities.has('DEBUG:5') && severities.has('ERROR:17'), [...severities].join(','));
    // Every failed request logs an ERROR on its server span.
    const errorLogSpans = new Set(logs.filter((l) => l.severityText === 'ERROR').map((l) => `${l.traceId}/${l.spanId}`));
    for (const s of spans) {
      if (s.kind === KIND.SPAN_KIND_SERVER && s.statusCode === STATUS_ERROR) assert.ok(errorLogSpans.has(`${s.traceId}/${s.spanId}`), `failed ${s.service} ${s.name} logged no ERROR`);
    }
  });

  test('the burst raises the payments error rate and latency', () => {
    const w = new Workload({ seed: 21, startMs: START, rate: 40, burst: { firstAfterSec: 60, everySec: 300, lengthSec: 45 } });
    const stats = (fromSec: number, toSec: number) => {
      const win = w.window(START + fromSec * 1000, START + toSec * 1000);
      const pay = decodeSpans(encodeTraces(win.traces)).filter((s) => s.service === 'payments' && s.kind === KIND.SPAN_KIND_SERVER);
      const failed = pay.filter((s) => s.statusCode === STATUS_ERROR).length;
      const durations = pay.map((s) => Number(s.end - s.start) / 1e6).toSorted((x, y) => x - y);
      return { n: pay.length, errorRate: failed / pay.length, medianMs: durations[durations.length >> 1], burst: win.burst };
    };
    const before = stats(0, 60);
    const during = stats(60, 105);
    const after = stats(105, 165);
    assert.ok(before.n > 200 && during.n > 200, `payments calls: ${before.n}, ${during.n}`);
    assert.equal(before.burst, false);
    assert.equal(during.burst, true);
    assert.ok(before.errorRate < 0.05, `error rate before the burst ${before.errorRate}`);
    assert.ok(during.errorRate > 0.25 && during.errorRate < 0.55, `error rate during the burst ${during.errorRate}`);
    assert.ok(after.errorRate < 0.05, `error rate after the burst ${after.errorRate}`);
    assert.ok(during.medianMs > before.medianMs * 2, `median ${before.medianMs} ms before, ${during.medianMs} ms during`);
    assert.equal(w.inBurst(START + 60_000 + 300_000), true, 'the burst repeats every period');
  });

  test('rejects bad options, naming the field', () => {
    assert.throws(() => new Workload({ seed: 1, startMs: START, rate: 0 }), /rate/);
    assert.throws(() => new Workload({ seed: 1.5, startMs: START, rate: 1 }), /seed/);
    assert.throws(() => new Workload({ seed: 1, startMs: START, rate: 1, burst: { firstAfterSec: 0, everySec: 30, lengthSec: 45 } }), /everySec/);
    assert.throws(() => new Workload({ seed: 1, startMs: START, rate: 1 }).window(START + 10, START), /window/);
  });
});
