/**
 * Hostile input for all three entry points: every call must either return or throw
 * OtlpDecodeError (never another error, never hang), and whatever decodes must be consistent
 * with what the routing scanner sees.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeRequest, encodeRequest } from './codec.ts';
import { OtlpDecodeError } from './errors.ts';
import { largeTraces, sampleLogs, sampleMetrics, sampleTraces, seededRandom } from './fixtures.ts';
import { requestFromJson, requestToJson } from './json.ts';
import { splitByResource } from './route.ts';
import { countItems } from './testing.ts';
import type { Signal } from '../telemetry/signals.ts';

const SIGNALS = ['traces', 'metrics', 'logs'] as const;
const VALID: Record<Signal, Uint8Array> = {
  traces: encodeRequest('traces', sampleTraces()),
  metrics: encodeRequest('metrics', sampleMetrics()),
  logs: encodeRequest('logs', sampleLogs()),
};

/** Runs fn; returns its result or undefined if it threw OtlpDecodeError; fails on anything else. */
function attempt<T>(fn: () => T, label: string): T | undefined {
  try {
    return fn();
  } catch (err) {
    if (err instanceof OtlpDecodeError) return undefined;
    assert.fail(`${label}: threw ${(err as Error)?.name}: ${(err as Error)?.message}`);
  }
}

/** Both protobuf entry points on one input, cross-checked: what decodes must also route, with the same item count. */
function checkProto(signal: Signal, input: Uint8Array, label: string): boolean {
  const decoded = attempt(() => decodeRequest(signal, input), `decode ${label}`);
  const parts = attempt(() => splitByResource(signal, input), `split ${label}`);
  if (decoded !== undefined) {
    assert.ok(parts !== undefined, `${label}: decodes but does not route`);
    assert.equal(parts.reduce((n, p) => n + p.items, 0), countItems(signal, decoded), `${label}: item count`);
    for (const p of parts) decodeRequest(signal, p.bytes); // every part of a valid request is valid
  }
  return decoded !== undefined;
}

test('truncation at every byte position', { timeout: 30_000 }, () => {
  for (const signal of SIGNALS) {
    const valid = VALID[signal];
    let rejected = 0;
    for (let cut = 0; cut < valid.length; cut++) {
      if (!checkProto(signal, valid.subarray(0, cut), `${signal} cut at ${cut}`)) rejected++;
    }
    // Only cuts at a top-level entry boundary leave a valid request.
    assert.ok(rejected >= valid.length - 3, `${signal}: only ${rejected} of ${valid.length} truncations rejected`);
  }
});

test('huge length prefixes', () => {
  for (const signal of SIGNALS) {
    for (const len of [[0xff, 0xff, 0xff, 0xff, 0x0f], [0x80, 0x80, 0x80, 0x80, 0x08], [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]]) {
      const input = Uint8Array.from([0x0a, ...len, 0x0a, 0x00]);
      assert.throws(() => decodeRequest(signal, input), OtlpDecodeError);
      assert.throws(() => splitByResource(signal, input), OtlpDecodeError);
    }
  }
});

test('seeded random bytes', { timeout: 30_000 }, () => {
  const random = seededRandom(42);
  const started = performance.now();
  for (let i = 0; i < 3000; i++) {
    const input = Uint8Array.from({ length: Math.floor(random() * 200) }, () => Math.floor(random() * 256));
    checkProto(SIGNALS[i % 3], input, `random #${i}`);
  }
  assert.ok(performance.now() - started < 10_000);
});

test('seeded mutations of valid requests', { timeout: 60_000 }, () => {
  const random = seededRandom(1234);
  const big = encodeRequest('traces', largeTraces(20, 3));
  let decodedCount = 0;
  for (let i = 0; i < 4000; i++) {
    const signal = SIGNALS[i % 3];
    const base = i % 7 === 0 && signal === 'traces' ? big : VALID[signal];
    const input = Uint8Array.from(base);
    const edits = 1 + Math.floor(random() * 4);
    for (let e = 0; e < edits; e++) {
      const at = Math.floor(random() * input.length);
      const kind = random();
      if (kind < 0.5) input[at] = Math.floor(random() * 256);
      else if (kind < 0.8) input[at] ^= 1 << Math.floor(random() * 8);
      else input[at] = [0x00, 0x7f, 0x80, 0xff][Math.floor(random() * 4)];
    }
    if (checkProto(signal, input, `mutation #${i}`)) decodedCount++;
  }
  // Sanity: mutations hit both outcomes, so both paths were exercised.
  assert.ok(decodedCount > 0 && decodedCount < 4000, `decoded ${decodedCount}`);
});

/** Replaces a random node of a JSON tree with a random value, in place. */
function mutateJson(root: unknown, random: () => number): unknown {
  const junk = [null, 0, -1, 1.5, 1e300, '', 'x', 'NaN', 'zz', '0', true, [], {}, [1], { a: 1 }, '00'.repeat(16), '18446744073709551616'];
  const pick = () => structuredClone(junk[Math.floor(random() * junk.length)]);
  const nodes: [Record<string, unknown> | unknown[], string | number][] = [];
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const v = stack.pop();
    if (v !== null && typeof v === 'object') {
      for (const [k, child] of Object.entries(v)) {
        nodes.push([v as Record<string, unknown>, Array.isArray(v) ? Number(k) : k]);
        stack.push(child);
      }
    }
  }
  if (nodes.length === 0 || random() < 0.02) return pick();
  const [parent, key] = nodes[Math.floor(random() * nodes.length)];
  (parent as Record<string | number, unknown>)[key] = pick();
  return root;
}

test('seeded mutations of valid OTLP/JSON', { timeout: 60_000 }, () => {
  const random = seededRandom(99);
  const bases = Object.fromEntries(SIGNALS.map((s) => [s, JSON.stringify(requestToJson(s, decodeRequest(s, VALID[s])))])) as Record<Signal, string>;
  let accepted = 0;
  for (let i = 0; i < 3000; i++) {
    const signal = SIGNALS[i % 3];
    let value: unknown = JSON.parse(bases[signal]);
    for (let e = 0, n = 1 + Math.floor(random() * 3); e < n; e++) value = mutateJson(value, random);
    const msg = attempt(() => requestFromJson(signal, value), `json mutation #${i}`);
    if (msg !== undefined) {
      accepted++;
      // Whatever JSON is accepted must make a valid protobuf request.
      decodeRequest(signal, encodeRequest(signal, msg as never));
    }
  }
  assert.ok(accepted > 0 && accepted < 3000, `accepted ${accepted}`);
});
