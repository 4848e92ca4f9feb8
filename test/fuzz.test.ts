/**
 * Fuzz tests for every OTLP decoder, the gateway validator and both OTLP endpoints: seeded (the
 * seed is printed; OLLYSTACK_FUZZ_SEED=<n> runs another), a fixed number of cases, every call
 * bounded in time.
 *
 * Decoders (decodeRequest, splitByResource, requestFromJson, the storage consumer's JSONEachRow
 * and Native mappers) and validateRequest get mutated valid requests, random ones and
 * 10,000-deep AnyValue nesting, in a worker a watchdog stops if a call hangs; each must return
 * or throw its typed error, and they must agree on what is valid. The OTLP/HTTP receiver gets
 * mutated, compressed, truncated and mislabelled requests: each answer must be 200 or a 4xx
 * carrying a google.rpc.Status with a message, never a 5xx. The OTLP/gRPC receiver gets the same
 * payloads, also in broken gRPC framing: every call must end with a status and a message, from
 * the receiver when the framing is sound, never UNKNOWN or the receiver's INTERNAL. Every record
 * either puts on the bus must decode in storage.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { ConsumedRecord, Consumer } from '../src/bus/index.ts';
import { OtlpDecodeError, decodeRequest, requestFromJson, splitByResource } from '../src/otlp/index.ts';
import { SIGNALS } from '../src/telemetry/signals.ts';
import { Violations, countItems, type Violation } from './support/fuzz-check.ts';
import { SEEDS } from './support/fuzz-corpus.ts';
import type { DecoderFuzzResult } from './support/fuzz-decoder-worker.ts';
import { grpcCall, grpcCase, grpcSession } from './support/fuzz-grpc.ts';
import { httpCase } from './support/fuzz-http-cases.ts';
import { FUZZ_KEY, answerProblem, auditRecord, rawExchange, startReceiver, type ReceiverHarness } from './support/fuzz-http.ts';
import { fuzzSeed, replayHint } from './support/fuzz-random.ts';
import { ld, str } from './support/fuzz-wire.ts';
import { runDecoderFuzz, withTimeout } from './support/fuzz-watchdog.ts';

const SEED = fuzzSeed();
console.log(`fuzz seed ${SEED} (OLLYSTACK_FUZZ_SEED=<n> runs another)`);

/** Bounds each HTTP call; far above any honest answer time on a busy machine. */
const CALL_TIMEOUT_MS = 15_000;
const LIMIT = 1 << 20;

function assertNone(violations: readonly Violation[], total: number, what: string): void {
  if (total === 0) return;
  const shown = violations.map((v) => `- ${v.message}\n    case: ${v.label}\n    input: ${v.input}`).join('\n');
  assert.fail(`${total} ${what} (distinct ones below, seed ${SEED}):\n${shown}`);
}

function assertClean(result: DecoderFuzzResult, what: string): void {
  assertNone(result.violations, result.violationCount, `${what} broke a decoder property`);
}

describe('decoders', () => {
  test('mutated valid requests (every seed, every signal): return or OtlpDecodeError, and every decoder agrees', { timeout: 240_000 }, async (t) => {
    t.diagnostic(`seed ${SEED}`);
    const result = await runDecoderFuzz('proto-mutations', SEED, 2000);
    t.diagnostic(JSON.stringify(result.stats));
    assertClean(result, 'mutated requests');
    // Both paths were exercised, or the agreement checks meant nothing.
    assert.ok(result.stats.accepted > 100 && result.stats.rejected > 100, JSON.stringify(result.stats));
  });

  test('random bytes and random field trees: return or OtlpDecodeError, and every decoder agrees', { timeout: 240_000 }, async (t) => {
    const result = await runDecoderFuzz('proto-random', SEED, 1000);
    t.diagnostic(JSON.stringify(result.stats));
    assertClean(result, 'random requests');
    assert.ok(result.stats.accepted > 50 && result.stats.rejected > 50, JSON.stringify(result.stats));
  });

  test('AnyValue nesting up to 10,000 levels (arrays in arrays, kvlists in kvlists) at every attribute and body site: 32 levels pass, deeper is OtlpDecodeError', { timeout: 240_000 }, async () => {
    const result = await runDecoderFuzz('nesting', SEED, 0);
    assertClean(result, 'nested requests');
    assert.ok(result.stats.accepted > 0 && result.stats.rejected > 0, JSON.stringify(result.stats));
  });

  test('requestFromJson on mutated texts, mutated values and random values: return or OtlpDecodeError; what it accepts encodes to protobuf every decoder accepts', { timeout: 240_000 }, async (t) => {
    const result = await runDecoderFuzz('json', SEED, 1500);
    t.diagnostic(JSON.stringify(result.stats));
    assertClean(result, 'JSON inputs');
    assert.ok(result.stats.accepted > 100 && result.stats.rejected > 100, JSON.stringify(result.stats));
  });
});

describe('inputs this fuzzer found, kept as fixed cases', () => {
  test('requestFromJson refuses a string holding a lone surrogate (it has no UTF-8 form), naming the field', () => {
    const json = JSON.parse('{"resourceLogs":[{"resource":{"attributes":[{"key":"k\\udc00","value":{"stringValue":"v"}}]}}]}');
    assert.throws(() => requestFromJson('logs', json), (e: unknown) => e instanceof OtlpDecodeError && /resourceLogs\[0\]\.resource\.attributes\[0\]\.key: .*surrogate/.test(e.message));
  });

  test('routing counts the points of a metric data member repeated in a row (protobuf merges them), and only the last member\'s after another', () => {
    const point = (v: number) => ld(1, [0x21, ...Buffer.from(Float64Array.of(v).buffer)]); // NumberDataPoint{as_double}
    const cases: Array<[string, number[][]]> = [
      ['gauge, gauge', [ld(5, point(1)), ld(5, point(2))]],
      ['gauge, sum, gauge', [ld(5, point(1)), ld(7, point(2), point(3)), ld(5, point(4))]],
      ['sum, gauge, gauge', [ld(7, point(1)), ld(5, point(2)), ld(5, point(3), point(4))]],
    ];
    for (const [label, data] of cases) {
      const bytes = Uint8Array.from(ld(1, ld(2, ld(2, str(1, 'm'), ...data))));
      const routed = splitByResource('metrics', bytes).reduce((n, p) => n + p.items, 0);
      assert.equal(routed, countItems('metrics', decodeRequest('metrics', bytes)), label);
    }
  });
});

describe('gateway validator', () => {
  test('validateRequest on mutated, valid and deeply nested requests, default and tight limits: returns or refuses with IngestError; what it passes, every decoder accepts, with the counts it reports', { timeout: 240_000 }, async (t) => {
    const result = await runDecoderFuzz('validator', SEED, 1000);
    t.diagnostic(JSON.stringify(result.stats));
    assertClean(result, 'validator inputs');
    assert.ok(result.stats.passed > 100 && result.stats.refused > 100, JSON.stringify(result.stats));
  });
});

describe('OTLP receivers', () => {
  let receiver: ReceiverHarness;
  let consumer: Consumer;
  let audited = 0;

  before(async () => {
    receiver = await startReceiver(LIMIT);
    consumer = receiver.bus.consumer({ groupId: 'fuzz-audit', topics: [...SIGNALS] });
  });

  after(async () => {
    await consumer?.close();
    await receiver?.close();
  });

  /** The records the bus got since the last call, audited under the case that sent them. */
  async function auditNew(label: string, waitMs: number, out: Violations): Promise<number> {
    const got: ConsumedRecord[] = await withTimeout(consumer.poll({ maxRecords: 10_000, maxWaitMs: waitMs }), CALL_TIMEOUT_MS, `bus poll after ${label}`);
    for (const r of got) {
      const sub = new Violations();
      auditRecord(r, sub);
      for (const v of sub.list) out.add(label, v.message, v.input);
    }
    audited += got.length;
    return got.length;
  }

  test('OTLP/HTTP: fuzzed requests get 200 or a 4xx with a google.rpc.Status message, never a 5xx; what they put on the bus decodes', { timeout: 240_000 }, async (t) => {
    const CASES = 1000;
    const out = new Violations();
    const statuses: Record<number, number> = {};
    for (let i = 0; i < CASES; i++) {
      const c = httpCase(SEED, i);
      const label = `${c.label}; ${replayHint(SEED, 'http', i)}`;
      const answer = await withTimeout(receiver.app.inject({ method: 'POST', url: c.url, headers: c.headers, payload: Buffer.from(c.body) }), CALL_TIMEOUT_MS, label);
      statuses[answer.statusCode] = (statuses[answer.statusCode] ?? 0) + 1;
      const problem = answerProblem(answer);
      if (problem) out.add(label, problem, c.body);
      if (c.expect !== undefined && answer.statusCode !== c.expect) out.add(label, `expected ${c.expect}, got ${answer.statusCode}: ${answer.body.slice(0, 200)}`, c.body);
      if (answer.statusCode === 200) await auditNew(label, 20, out);
    }
    t.diagnostic(`statuses ${JSON.stringify(statuses)}, bus records audited ${audited}`);
    assertNone(out.list, out.count, 'answers broke the receiver contract or put records on the bus that storage cannot use');
    assert.ok(statuses[200] > 100 && statuses[400] > 100 && statuses[413] > 0 && statuses[415] > 0 && statuses[401] > 0, JSON.stringify(statuses));
    assert.ok(audited > 100, `only ${audited} bus records to audit`);
  });

  test('OTLP/gRPC: every call gets a status with a message, from the receiver when the framing is sound; never UNKNOWN or the receiver\'s INTERNAL; what it puts on the bus decodes', { timeout: 240_000 }, async (t) => {
    const CASES = 600;
    const framedCodes = new Set([0, 3, 8, 16]); // OK, INVALID_ARGUMENT, RESOURCE_EXHAUSTED, UNAUTHENTICATED
    const out = new Violations();
    const codes: Record<string, number> = {};
    const session = grpcSession(receiver.grpcPort);
    try {
      for (let i = 0; i < CASES; i++) {
        const c = grpcCase(SEED, i);
        const label = `gRPC ${c.label}; ${replayHint(SEED, 'grpc', i)}`;
        const answer = await withTimeout(grpcCall(session, c), CALL_TIMEOUT_MS, label);
        const code = answer.grpcStatus;
        codes[String(code)] = (codes[String(code)] ?? 0) + 1;
        if (answer.httpStatus !== 200 || code === undefined || !Number.isInteger(code)) out.add(label, `HTTP ${answer.httpStatus} without a grpc-status`, c.body);
        else if (code === 2 || answer.grpcMessage === 'internal error') out.add(label, `grpc-status ${code} '${answer.grpcMessage}': the receiver failed on its input`, c.body);
        else if (c.framing === 'framed' && !framedCodes.has(code)) out.add(label, `a well-framed call got grpc-status ${code} '${answer.grpcMessage}'`, c.body);
        else if (code !== 0 && answer.grpcMessage.trim() === '') out.add(label, `grpc-status ${code} without a message`, c.body);
        if (c.expect !== undefined && code !== c.expect) out.add(label, `expected grpc-status ${c.expect}, got ${code} '${answer.grpcMessage}'`, c.body);
        if (code === 0) await auditNew(label, 20, out);
      }
    } finally {
      session.close();
    }
    t.diagnostic(`grpc-status counts ${JSON.stringify(codes)}`);
    assertNone(out.list, out.count, 'gRPC answers broke the receiver contract or put records on the bus that storage cannot use');
    assert.ok(codes['0'] > 50 && codes['3'] > 50 && codes['8'] > 0 && codes['16'] > 0, JSON.stringify(codes));
  });

  test('OTLP/HTTP: a JSON string with a lone surrogate (found by this fuzzer) is a 400 naming the field, not a record storage cannot decode', async () => {
    const body = '{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0102030405060708","name":"x\\ud800"}]}]}]}';
    const answer = await receiver.app.inject({ method: 'POST', url: '/v1/traces', headers: { authorization: `Bearer ${FUZZ_KEY}`, 'content-type': 'application/json' }, payload: body });
    assert.equal(answer.statusCode, 400, answer.body);
    assert.match(JSON.parse(answer.body).message, /resourceSpans\[0\]\.scopeSpans\[0\]\.spans\[0\]\.name: .*surrogate/);
  });

  test('OTLP/HTTP: bodies short of their Content-Length and broken framing over a real socket: a 4xx or a closed connection, never a 5xx or a hang', { timeout: 120_000 }, async () => {
    await receiver.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = receiver.app.server.address() as AddressInfo;
    const body = Buffer.from(SEEDS[0].bytes);
    const head = (extra: string) => `POST /v1/traces HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${FUZZ_KEY}\r\nContent-Type: application/x-protobuf\r\nConnection: close\r\n${extra}\r\n`;
    // [what, request, then half-close]: a body cut short is followed by EOF, as from a client that
    // gave up (without it the server rightly waits for the rest); framing errors must be answered as they are.
    const requests: Array<[string, Buffer, boolean]> = [
      ['Content-Length past the body, then EOF', Buffer.concat([Buffer.from(head(`Content-Length: ${body.length + 100}\r\n`)), body]), true],
      ['half the body, then EOF', Buffer.concat([Buffer.from(head(`Content-Length: ${body.length}\r\n`)), body.subarray(0, body.length >> 1)]), true],
      ['chunked, cut inside a chunk, then EOF', Buffer.concat([Buffer.from(`${head('Transfer-Encoding: chunked\r\n')}${body.length.toString(16)}\r\n`), body.subarray(0, 10)]), true],
      ['chunked without the last chunk, then EOF', Buffer.concat([Buffer.from(`${head('Transfer-Encoding: chunked\r\n')}${body.length.toString(16)}\r\n`), body, Buffer.from('\r\n')]), true],
      ['headers cut short, then EOF', Buffer.from('POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Ty'), true],
      ['Content-Length past the limit', Buffer.from(head(`Content-Length: ${LIMIT * 1024}\r\n`)), false],
      ['Content-Length not a number', Buffer.concat([Buffer.from(head('Content-Length: abc\r\n')), body]), false],
      ['two different Content-Lengths', Buffer.concat([Buffer.from(head(`Content-Length: ${body.length}\r\nContent-Length: 3\r\n`)), body]), false],
      ['chunked with a bad chunk size', Buffer.from(`${head('Transfer-Encoding: chunked\r\n')}zz\r\nabc\r\n0\r\n\r\n`), false],
      ['chunked with a huge chunk size, then EOF', Buffer.from(`${head('Transfer-Encoding: chunked\r\n')}ffffffffffffffff\r\nabc\r\n`), true],
      ['chunked and Content-Length both', Buffer.concat([Buffer.from(head(`Transfer-Encoding: chunked\r\nContent-Length: ${body.length}\r\n`)), body]), false],
      ['a header line without a colon', Buffer.from(head('this is not a header\r\n')), false],
    ];
    for (const [what, request, endAfter] of requests) {
      const answer = await rawExchange(port, request, endAfter, CALL_TIMEOUT_MS);
      assert.ok(!answer.timedOut, `${what}: the server neither answered nor closed the connection within ${CALL_TIMEOUT_MS / 1000} s`);
      if (answer.status !== undefined) {
        assert.ok(answer.status >= 400 && answer.status < 500, `${what}: answered ${answer.status}\n${answer.raw.slice(0, 300)}`);
        const answerBody = answer.raw.slice(answer.raw.indexOf('\r\n\r\n') + 4);
        assert.ok(answerBody.length > 0, `${what}: ${answer.status} without a body`);
      } else {
        assert.ok(endAfter, `${what}: the server closed the connection without an answer`);
      }
    }
    // And it still takes a valid request afterwards.
    const ok = await rawExchange(port, Buffer.concat([Buffer.from(head(`Content-Length: ${body.length}\r\n`)), body]), false, CALL_TIMEOUT_MS);
    assert.equal(ok.status, 200, ok.raw.slice(0, 300));
    const audit = new Violations();
    assert.ok((await auditNew('the valid request after the socket cases', 1000, audit)) > 0, 'the valid request reached the bus');
    assertNone(audit.list, audit.count, 'socket requests put records on the bus that storage cannot use');
  });
});
