/**
 * Runs one batch of decoder fuzz cases in a worker thread, so the test thread can stop it when a
 * case makes no progress: a decoder stuck in a synchronous loop cannot be interrupted by a timer
 * in its own thread. Progress goes through shared memory ([case number, cases done]); the
 * violations come back in one message at the end.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { decodeRequest, requestToJson } from '../../src/otlp/index.ts';
import { SIGNALS, type Signal } from '../../src/telemetry/signals.ts';
import { VALIDATION_LIMITS, Violations, checkJson, checkProto, checkValidator } from './fuzz-check.ts';
import { FIXED_NOW_MS, SEEDS, nestingCases } from './fuzz-corpus.ts';
import { jsonText, mutateJsonText, mutateJsonValue, randomJson, vocabulary, type Json } from './fuzz-json.ts';
import { Random, replayHint } from './fuzz-random.ts';
import { mutateProto, randomRequest } from './fuzz-wire.ts';

export type DecoderFuzzMode = 'proto-mutations' | 'proto-random' | 'nesting' | 'json' | 'validator';

export interface DecoderFuzzJob {
  mode: DecoderFuzzMode;
  seed: number;
  cases: number;
  /** Int32Array view: [0] = case being run, [1] = cases done. */
  progress: SharedArrayBuffer;
}

export interface DecoderFuzzResult {
  violations: Violations['list'];
  violationCount: number;
  /** Outcome counts, so the test can check both accept and reject paths were exercised. */
  stats: Record<string, number>;
}

const job = workerData as DecoderFuzzJob;
const progress = new Int32Array(job.progress);
const out = new Violations();
const stats: Record<string, number> = {};
const count = (key: string) => {
  stats[key] = (stats[key] ?? 0) + 1;
};

function otherSignal(signal: Signal, rand: Random): Signal {
  return SIGNALS.filter((s) => s !== signal)[rand.int(2)];
}

function protoMutations(caseNo: number): void {
  const rand = Random.forCase(job.seed, job.mode, caseNo);
  const seed = SEEDS[caseNo % SEEDS.length];
  // One case in ten decodes one signal's bytes as another's (same layout at the top, different below).
  const signal = rand.chance(0.1) ? otherSignal(seed.signal, rand) : seed.signal;
  const { bytes, what } = mutateProto(seed.bytes, rand);
  const label = `${seed.label} as ${signal}, mutated [${what.join(', ')}]; ${replayHint(job.seed, job.mode, caseNo)}`;
  count(checkProto(signal, bytes, label, out) ? 'accepted' : 'rejected');
}

function protoRandom(caseNo: number): void {
  const rand = Random.forCase(job.seed, job.mode, caseNo);
  const signal = SIGNALS[caseNo % 3];
  // Raw random bytes rarely get past the first tag; random field trees reach the deep levels.
  const bytes = rand.chance(0.3) ? rand.bytes(rand.int(300)) : randomRequest(rand);
  count(checkProto(signal, bytes, `random ${signal} request; ${replayHint(job.seed, job.mode, caseNo)}`, out) ? 'accepted' : 'rejected');
}

const DEPTHS = [1, 31, 32, 33, 64, 10_000];
let nestingList: ReturnType<typeof nestingCases> | undefined;
const nestingCasesOnce = () => (nestingList ??= nestingCases(DEPTHS));

function nesting(caseNo: number): void {
  const list = nestingCasesOnce();
  const c = list[caseNo % list.length];
  const label = `${c.signal}: ${c.label}`;
  const accepted = checkProto(c.signal, c.bytes, label, out);
  // The codec's limit: 32 levels of AnyValue (a plain string attribute is level 1).
  if (accepted !== c.depth <= 32) out.add(label, `AnyValue ${c.depth} levels deep was ${accepted ? 'accepted' : 'rejected'}`, c.bytes);
  count(accepted ? 'accepted' : 'rejected');
}

const JSON_SEEDS = SEEDS.map((s) => ({ ...s, text: JSON.stringify(requestToJson(s.signal, decodeRequest(s.signal, s.bytes))) }));
const KEYS = vocabulary(JSON_SEEDS.map((s) => JSON.parse(s.text) as Json));
const TOP_KEYS: Record<Signal, string> = { traces: 'resourceSpans', logs: 'resourceLogs', metrics: 'resourceMetrics' };

function json(caseNo: number): void {
  const rand = Random.forCase(job.seed, job.mode, caseNo);
  const seed = JSON_SEEDS[caseNo % JSON_SEEDS.length];
  const signal = rand.chance(0.1) ? otherSignal(seed.signal, rand) : seed.signal;
  let text: string;
  let what: string;
  const kind = rand.next();
  if (kind < 0.6) {
    const m = mutateJsonValue(JSON.parse(seed.text) as Json, rand, KEYS);
    text = jsonText(m.value);
    what = `value [${m.what.join(', ')}]`;
  } else if (kind < 0.85) {
    const m = mutateJsonText(seed.text, rand);
    text = m.text;
    what = `text [${m.what}]`;
  } else {
    // Random values under the right top-level key reach the nested levels; bare ones test the root.
    const v = randomJson(rand, KEYS, 6);
    text = JSON.stringify(rand.chance(0.7) ? { [TOP_KEYS[signal]]: [v] } : v);
    what = 'random value';
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    count('not JSON');
    return;
  }
  const label = `${seed.label} JSON as ${signal}, ${what}; ${replayHint(job.seed, job.mode, caseNo)}`;
  count(checkJson(signal, value, label, text, out) ? 'accepted' : 'rejected');
}

function validator(caseNo: number): void {
  const rand = Random.forCase(job.seed, job.mode, caseNo);
  const limits = VALIDATION_LIMITS[caseNo % VALIDATION_LIMITS.length];
  const limitsName = caseNo % VALIDATION_LIMITS.length === 0 ? 'default limits' : 'tight limits';
  const kind = rand.next();
  let signal: Signal;
  let bytes: Uint8Array;
  let what: string;
  if (kind < 0.65) {
    const seed = SEEDS[caseNo % SEEDS.length];
    const m = mutateProto(seed.bytes, rand);
    [signal, bytes, what] = [seed.signal, m.bytes, `${seed.label}, mutated [${m.what.join(', ')}]`];
  } else if (kind < 0.85) {
    const seed = SEEDS[caseNo % SEEDS.length];
    [signal, bytes, what] = [seed.signal, seed.bytes, `${seed.label}, valid`];
  } else {
    const c = rand.pick(nestingCasesOnce());
    [signal, bytes, what] = [c.signal, c.bytes, c.label];
  }
  count(checkValidator(signal, bytes, limits, FIXED_NOW_MS, `validator, ${limitsName}: ${signal} ${what}; ${replayHint(job.seed, job.mode, caseNo)}`, out));
}

const RUN: Record<DecoderFuzzMode, (caseNo: number) => void> = { 'proto-mutations': protoMutations, 'proto-random': protoRandom, nesting, json, validator };
const cases = job.mode === 'nesting' ? nestingCasesOnce().length : job.cases;
for (let i = 0; i < cases; i++) {
  Atomics.store(progress, 0, i);
  RUN[job.mode](i);
  Atomics.store(progress, 1, i + 1);
}
const result: DecoderFuzzResult = { violations: out.list, violationCount: out.count, stats };
// oxlint-disable-next-line unicorn/require-post-message-target-origin -- a worker_threads port, not a window: no target origin
parentPort!.postMessage(result);
