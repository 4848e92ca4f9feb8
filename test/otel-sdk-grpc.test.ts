/**
 * The real OpenTelemetry JS SDK OTLP/gRPC exporters (plain and gzip) send to the gateway's
 * gRPC receiver; every export is acknowledged as a success, and what was sent is read back
 * through the query API with the same ids, names, attributes and values.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Metadata } from '@grpc/grpc-js';
import { SpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-grpc';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { apiGet, startTestStack, waitFor, type TestStack } from './helpers.ts';

/** The SDK's ExportResult (from @opentelemetry/core, not a dependency of ours): code 0 is SUCCESS, 1 FAILED. */
interface ExportResult {
  code: number;
  error?: Error;
}
const SUCCESS = 0;
const FAILED = 1;

let s: TestStack;
before(async () => {
  s = await startTestStack();
});
after(async () => {
  await s?.stop();
});

function metadata(key = s.key): Metadata {
  const md = new Metadata();
  md.set('authorization', `Bearer ${key}`);
  return md;
}

/** Records every export's result, so a refused export fails the test instead of being swallowed by the processor. */
function recording<E extends { export(items: any, done: (r: ExportResult) => void): void }>(exporter: E): { exporter: E; results: ExportResult[] } {
  const results: ExportResult[] = [];
  const original = exporter.export.bind(exporter);
  exporter.export = (items, done) =>
    original(items, (r) => {
      results.push(r);
      done(r);
    });
  return { exporter, results };
}

function assertAllSucceeded(results: ExportResult[]): void {
  assert.ok(results.length > 0, 'something was exported');
  for (const r of results) assert.equal(r.code, SUCCESS, `export failed: ${r.error?.message}`);
}

for (const compression of ['none', 'gzip'] as const) {
  test(`traces from the SDK's OTLP/gRPC exporter (compression ${compression}) are stored unaltered`, async () => {
    const service = `grpc-traces-${compression}`;
    const { exporter, results } = recording(new OTLPTraceExporter({ url: s.grpc, metadata: metadata(), compression: compression as any }));
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': service, 'service.version': '1.2.3' }),
      spanProcessors: [new SimpleSpanProcessor(exporter)],
    });
    const tracer = provider.getTracer('sdk-test', '0.0.1');
    const root = tracer.startSpan('GET /checkout', { kind: SpanKind.SERVER, attributes: { 'http.request.method': 'GET', 'http.response.status_code': 500, retry: true, ratio: 0.25 } });
    const child = tracer.startSpan('SELECT orders', { kind: SpanKind.CLIENT, attributes: { 'db.system': 'postgresql', tags: ['a', 'b'] } }, trace.setSpan(context.active(), root));
    child.addEvent('cache miss', { key: 'order:42' });
    child.end();
    root.setStatus({ code: SpanStatusCode.ERROR, message: 'boom' });
    root.end();
    await provider.forceFlush();
    await provider.shutdown();
    assertAllSucceeded(results);

    const traceId = root.spanContext().traceId;
    const got = await waitFor('the trace', async () => {
      const r = await apiGet(s.api, `/api/v1/traces/${traceId}`, s.key);
      return r.status === 200 && r.body.spans.length === 2 ? r.body : null;
    });
    const byId = new Map<string, any>(got.spans.map((sp: any) => [sp.spanId, sp]));
    const r = byId.get(root.spanContext().spanId);
    const c = byId.get(child.spanContext().spanId);
    assert.ok(r && c, 'both span ids present');
    assert.equal(r.name, 'GET /checkout');
    assert.equal(r.serviceName, service);
    assert.equal(r.parentSpanId, '');
    assert.equal(r.statusCode, 'Error');
    assert.equal(r.attributes['http.request.method'], 'GET');
    assert.equal(r.attributes['http.response.status_code'], '500');
    assert.equal(r.attributes['retry'], 'true');
    assert.equal(r.attributes['ratio'], '0.25');
    assert.equal(c.parentSpanId, root.spanContext().spanId);
    assert.equal(c.name, 'SELECT orders');
    assert.equal(c.attributes['db.system'], 'postgresql');
    assert.equal(c.attributes['tags'], '["a","b"]');
    const [sec, nano] = (root as any).startTime as [number, number];
    assert.equal(r.startTimeUnixNano, (BigInt(sec) * 1_000_000_000n + BigInt(nano)).toString());
    const [dsec, dnano] = (root as any).duration as [number, number];
    assert.equal(r.durationNano, (BigInt(dsec) * 1_000_000_000n + BigInt(dnano)).toString());
  });

  test(`metrics from the SDK's OTLP/gRPC exporter (compression ${compression}) are stored unaltered`, async () => {
    const service = `grpc-metrics-${compression}`;
    const { exporter, results } = recording(new OTLPMetricExporter({ url: s.grpc, metadata: metadata(), compression: compression as any }));
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
    const provider = new MeterProvider({ resource: resourceFromAttributes({ 'service.name': service }), readers: [reader] });
    const meter = provider.getMeter('sdk-test');
    const counter = meter.createCounter(`grpc.${compression}.requests`);
    counter.add(40, { route: '/a' });
    counter.add(2, { route: '/a' });
    counter.add(7, { route: '/b' });
    meter.createGauge(`grpc.${compression}.temperature`).record(21.5, { room: 'lab' });
    const hist = meter.createHistogram(`grpc.${compression}.latency`, { unit: 'ms' });
    for (let i = 0; i < 100; i++) hist.record(7);
    await provider.forceFlush();
    await provider.shutdown();
    assertAllSucceeded(results);

    const q = (name: string, agg: string, groupBy = '') =>
      apiGet(s.api, `/api/v1/metrics/query?name=${encodeURIComponent(name)}&agg=${agg}&step=60s${groupBy ? `&groupBy=${groupBy}` : ''}`, s.key);
    const sums = await waitFor(`grpc.${compression}.requests`, async () => {
      const r = await q(`grpc.${compression}.requests`, 'max', 'route');
      return r.status === 200 && r.body.series.length === 2 ? r.body : null;
    });
    assert.equal(sums.kind, 'sum');
    assert.deepEqual(Object.fromEntries(sums.series.map((x: any) => [x.labels.route, x.points.at(-1)[1]])), { '/a': 42, '/b': 7 });
    const gauge = await waitFor(`grpc.${compression}.temperature`, async () => {
      const r = await q(`grpc.${compression}.temperature`, 'max', 'room');
      return r.status === 200 && r.body.series.length === 1 ? r.body : null;
    });
    assert.deepEqual(gauge.series[0].labels, { room: 'lab' });
    assert.equal(gauge.series[0].points.at(-1)[1], 21.5);
    const p50 = await waitFor(`grpc.${compression}.latency`, async () => {
      const r = await q(`grpc.${compression}.latency`, 'p50');
      return r.status === 200 && r.body.series.length === 1 ? r.body : null;
    });
    assert.equal(p50.kind, 'histogram');
    const v = p50.series[0].points.at(-1)[1];
    // Every value is 7, in the SDK's default (5, 10] bucket: the estimate must lie in it.
    assert.ok(v > 5 && v <= 10, `p50 ${v} within the (5, 10] bucket`);
  });

  test(`logs from the SDK's OTLP/gRPC exporter (compression ${compression}) are stored unaltered`, async () => {
    const service = `grpc-logs-${compression}`;
    const { exporter, results } = recording(new OTLPLogExporter({ url: s.grpc, metadata: metadata(), compression: compression as any }));
    const provider = new LoggerProvider({ resource: resourceFromAttributes({ 'service.name': service }), processors: [new SimpleLogRecordProcessor({ exporter })] });
    const span = new BasicTracerProvider().getTracer('x').startSpan('work');
    const word = `grpcmarker${compression}${Date.now()}`;
    provider.getLogger('sdk-test').emit({
      severityNumber: SeverityNumber.WARN,
      severityText: 'WARN',
      body: `payment ${word} declined`,
      attributes: { 'user.id': 42, 'card.type': 'visa' },
      context: trace.setSpan(context.active(), span),
    });
    await provider.forceFlush();
    await provider.shutdown();
    span.end();
    assertAllSucceeded(results);

    const logs = await waitFor('the log record', async () => {
      const r = await apiGet(s.api, `/api/v1/logs?service=${service}&q=${word}`, s.key);
      return r.status === 200 && r.body.logs.length === 1 ? r.body.logs : null;
    });
    const log = logs[0];
    assert.equal(log.body, `payment ${word} declined`);
    assert.equal(log.serviceName, service);
    assert.equal(log.severityText, 'WARN');
    assert.equal(log.traceId, span.spanContext().traceId);
    assert.equal(log.spanId, span.spanContext().spanId);
    assert.equal(log.attributes['user.id'], '42');
    assert.equal(log.attributes['card.type'], 'visa');
  });
}

test('the SDK exporter with an unknown key is refused UNAUTHENTICATED and nothing is stored', async () => {
  const service = 'grpc-intruder';
  const { exporter, results } = recording(new OTLPTraceExporter({ url: s.grpc, metadata: metadata('not-a-known-key-000000') }));
  const provider = new BasicTracerProvider({ resource: resourceFromAttributes({ 'service.name': service }), spanProcessors: [new SimpleSpanProcessor(exporter)] });
  provider.getTracer('x').startSpan('sneaky').end();
  // The processor passes the failed export on as an error of the flush; the result says why.
  await provider.forceFlush().catch(() => undefined);
  await provider.shutdown().catch(() => undefined);
  assert.equal(results.length, 1);
  assert.equal(results[0].code, FAILED);
  assert.equal((results[0].error as { code?: number } | undefined)?.code, 16, 'UNAUTHENTICATED');
  const services = await apiGet(s.api, '/api/v1/services', s.key);
  assert.equal(services.status, 200);
  assert.ok(!JSON.stringify(services.body).includes(service));
});
