import { test } from 'node:test';
import assert from 'node:assert/strict';
import { opentelemetry } from '../otlp/index.ts';
import { exportResponseJson, exportResponseProto } from './export-response.ts';

const collector = opentelemetry.proto.collector;

test('full success is an empty response in both encodings', () => {
  assert.equal(exportResponseProto('traces', 0, '').length, 0);
  assert.equal(exportResponseJson('logs', 0, ''), '{}');
});

test('a partial success names the rejected count under the signal\'s own field', () => {
  const t = collector.trace.v1.ExportTraceServiceResponse.decode(exportResponseProto('traces', 3, '3 spans had no trace id'));
  assert.equal(Number(t.partialSuccess!.rejectedSpans), 3);
  assert.equal(t.partialSuccess!.errorMessage, '3 spans had no trace id');
  const m = collector.metrics.v1.ExportMetricsServiceResponse.decode(exportResponseProto('metrics', 2, 'x'));
  assert.equal(Number(m.partialSuccess!.rejectedDataPoints), 2);
  const l = collector.logs.v1.ExportLogsServiceResponse.decode(exportResponseProto('logs', 1, 'y'));
  assert.equal(Number(l.partialSuccess!.rejectedLogRecords), 1);
  assert.deepEqual(JSON.parse(exportResponseJson('metrics', 2, 'x')), { partialSuccess: { rejectedDataPoints: '2', errorMessage: 'x' } });
});
