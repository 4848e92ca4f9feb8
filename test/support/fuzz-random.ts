/**
 * The fuzz tests' only source of randomness: a seeded PRNG (mulberry32), and one independent
 * stream per case derived from (seed, case number), so any single failing case can be replayed
 * on its own from the two numbers a failure prints.
 */

/** The run's seed: OLLYSTACK_FUZZ_SEED when set (to replay a failure), else a fixed default. */
export function fuzzSeed(): number {
  const env = process.env.OLLYSTACK_FUZZ_SEED;
  if (env === undefined || env === '') return 20250601;
  const n = Number(env);
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new Error(`OLLYSTACK_FUZZ_SEED must be an integer in 0..4294967295, got '${env}'`);
  return n;
}

/** How to replay one case, for failure messages. */
export function replayHint(seed: number, stream: string, caseNo: number): string {
  return `seed ${seed}, ${stream} case #${caseNo} (replay: OLLYSTACK_FUZZ_SEED=${seed} npx node --test test/fuzz.test.ts)`;
}

/** A 32-bit mix of the seed, a stream name and a case number (murmur3's finalizer over them). */
function mix(seed: number, stream: string, caseNo: number): number {
  let h = seed >>> 0;
  for (let i = 0; i < stream.length; i++) h = Math.imul(h ^ stream.charCodeAt(i), 0x9e3779b1);
  h = Math.imul(h ^ caseNo, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

export class Random {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** The stream of one case: independent of how many numbers earlier cases drew. */
  static forCase(seed: number, stream: string, caseNo: number): Random {
    return new Random(mix(seed, stream, caseNo));
  }

  /** A float in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** An integer in [min, max]. */
  range(min: number, max: number): number {
    return min + this.int(max - min + 1);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(list: readonly T[]): T {
    return list[this.int(list.length)];
  }

  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.int(256);
    return out;
  }
}
