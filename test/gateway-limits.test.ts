/** Through the embedded stack: invalid items are refused individually (OTLP partial success), the valid ones in the same request are stored. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { opentelemetry, requestToJson } from '../src/otlp/index.ts';
import { post } from './fixtures.ts';
import { apiGet, randomHex, startTestStack, waitFor, type TestStack } from './helpers.ts';

const c = opentelemetry.proto.collector.trace.v1;
const DAY_MS = 24 * 3_600_000;

let s: TestStack;
before(async () => {
  s = await startTestStack();
});
after(async () => {
  await s?.stop();
});

function nanos(ms: number): string {
  return (BigInt(ms) * 1_000_000n).toString();
}

/** Three valid spans of one trace, then one with an all-zero span id and one from 9 days ago (default limit: 168 hours). */
function mixedRequest(traceIdHex: string) {
  const traceId = Buffer.from(traceIdHex, 'hex');
  const now = Date.now();
  const spanAt = (i: number, startMs: number, spanId = Buffer.from(randomHex(8), 'hex')) => ({
    traceId,
    spanId,
    name: `op ${i}`,
    kind: 2,
    startTimeUnixNano: nanos(startMs),
    endTimeUnixNano: nanos(startMs + 3),
    attributes: [{ key: 'i', value: { intValue: i } }],
  });
  const spans = [spanAt(1, now - 1000), spanAt(2, now - 900), spanAt(3, now - 800), spanAt(4, now - 700, Buffer.alloc(8)), spanAt(5, now - 9 * DAY_MS)];
  return c.ExportTraceServiceRequest.fromObject({
    resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'limits-svc' } }] }, scopeSpans: [{ scope: { name: 't' }, spans }] }],
  });
}

const EXPECTED_MESSAGE = 'rejected 2 spans: 1 with an all-zero span id, 1 timestamped 9 days in the past (limit 168 hours)';

async function storedSpanNames(traceId: string): Promise<string[] | undefined> {
  const res = await apiGet(s.api, `/api/v1/traces/${traceId}`, s.key);
  if (res.status !== 200 || res.body.spans.length === 0) return undefined;
  return res.body.spans.map((sp: { name: string }) => sp.name).sort();
}

test('protobuf: the response is a partial success naming the rejects, and only the valid spans are stored', async () => {
  const traceId = randomHex(16);
  const res = await post(s.gateway, '/v1/traces', s.key, c.ExportTraceServiceRequest.encode(mixedRequest(traceId)).finish());
  assert.equal(res.status, 200);
  const body = c.ExportTraceServiceResponse.decode(new Uint8Array(await res.arrayBuffer()));
  assert.equal(Number(body.partialSuccess?.rejectedSpans), 2);
  assert.equal(body.partialSuccess?.errorMessage, EXPECTED_MESSAGE);
  // The kept spans travel as one bus record: once any is stored, all of them are.
  assert.deepEqual(await waitFor('the valid spans', () => storedSpanNames(traceId)), ['op 1', 'op 2', 'op 3']);
});

test('JSON: the same partial success, in OTLP/JSON', async () => {
  const traceId = randomHex(16);
  const json = JSON.stringify(requestToJson('traces', mixedRequest(traceId)));
  const res = await post(s.gateway, '/v1/traces', s.key, Buffer.from(json), 'application/json');
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { partialSuccess: { rejectedSpans: '2', errorMessage: EXPECTED_MESSAGE } });
  assert.deepEqual(await waitFor('the valid spans', () => storedSpanNames(traceId)), ['op 1', 'op 2', 'op 3']);
});

test('a request whose every span is invalid is still a 200 partial success, with nothing stored', async () => {
  const traceId = randomHex(16);
  const request = mixedRequest(traceId);
  const scope = request.resourceSpans[0].scopeSpans![0];
  scope.spans = scope.spans!.slice(3); // only the two invalid ones
  const res = await post(s.gateway, '/v1/traces', s.key, c.ExportTraceServiceRequest.encode(request).finish());
  assert.equal(res.status, 200);
  const body = c.ExportTraceServiceResponse.decode(new Uint8Array(await res.arrayBuffer()));
  assert.equal(body.partialSuccess?.errorMessage, EXPECTED_MESSAGE);
  // A later valid request's spans get stored; the rejected ones of this trace never are.
  const later = randomHex(16);
  const ok = c.ExportTraceServiceRequest.encode(mixedRequest(later)).finish();
  assert.equal((await post(s.gateway, '/v1/traces', s.key, ok)).status, 200);
  await waitFor('the later valid spans', () => storedSpanNames(later));
  assert.equal(await storedSpanNames(traceId), undefined);
});
