/**
 * The decisions of recently decided traces, so spans that arrive after the decision follow it.
 *
 * 100 000 of them must fit the agent's small heap: a Map keyed by 16-character strings costs
 * ~106 bytes per entry; these typed-array tables ~23, off the V8 heap. A trace id is reduced to a
 * 64-bit fingerprint (all 128 bits folded in, so ids that differ anywhere differ in it unless
 * random bits collide): two traces sharing one (odds ~ n / 2^64) would share a decision, which
 * is harmless.
 *
 * Bounded and roughly LRU, by generations: entries go into the youngest of up to GENERATIONS
 * open-addressing tables; once it is full, the oldest table is emptied and becomes the youngest;
 * a hit in an older table moves the entry to the youngest. So the most recently used
 * (GENERATIONS - 1) / GENERATIONS of `capacity` decisions are always remembered, and never more
 * than `capacity`. A trace forgotten here is decided again if more spans come, which consistent
 * sampling makes agree with the first decision unless p has moved since.
 */
import { thresholdFor, type SamplingThreshold } from './randomness.ts';

/** The threshold a trace was kept with, or null if it was dropped. */
export type Decision = SamplingThreshold | null;

const GENERATIONS = 4;
/** Live entries per slot at most; linear probing stays short below this. */
const MAX_LOAD = 0.7;
/** Distinct thresholds kept decoded, so late spans of one trace share one object. */
const MAX_MEMO = 64;

// Slot values: a kept decision is stored as its probability, which is exactly kept / 2^56 and so
// gives back the same threshold through thresholdFor; the rest are markers (probabilities are > 0).
const EMPTY = 0;
const DROPPED = -1;
const REMOVED = -2;

const TWO_32 = 4294967296;

/** One generation: an open-addressing table with linear probing. */
class Table {
  readonly slots: number;
  readonly hi: Int32Array;
  readonly lo: Int32Array;
  readonly values: Float64Array;
  /** Live entries. */
  count = 0;

  constructor(capacity: number) {
    // At least one slot always stays empty (entries and removed ones never exceed capacity), so probes end.
    this.slots = Math.ceil(capacity / MAX_LOAD) + 1;
    this.hi = new Int32Array(this.slots);
    this.lo = new Int32Array(this.slots);
    this.values = new Float64Array(this.slots);
  }

  private home(hi: number, lo: number): number {
    let h = Math.imul(hi ^ Math.imul(lo, 0xcc9e2d51), 0x1b873593);
    h ^= h >>> 16;
    return Math.floor(((h >>> 0) * this.slots) / TWO_32);
  }

  /** The slot holding the key, or -1. */
  find(hi: number, lo: number): number {
    const { values, slots } = this;
    for (let i = this.home(hi, lo); ; i = i + 1 === slots ? 0 : i + 1) {
      const value = values[i];
      if (value === EMPTY) return -1;
      if (value !== REMOVED && this.hi[i] === hi && this.lo[i] === lo) return i;
    }
  }

  /** Adds a key that is not in the table. */
  insert(hi: number, lo: number, value: number): void {
    const { values, slots } = this;
    let i = this.home(hi, lo);
    while (values[i] !== EMPTY && values[i] !== REMOVED) i = i + 1 === slots ? 0 : i + 1;
    this.hi[i] = hi;
    this.lo[i] = lo;
    values[i] = value;
    this.count++;
  }

  remove(slot: number): void {
    // Marked, not emptied, so keys further along the same probe run are still found.
    this.values[slot] = REMOVED;
    this.count--;
  }

  clear(): void {
    this.values.fill(EMPTY);
    this.count = 0;
  }
}

function word(key: string, at: number): number {
  return (key.charCodeAt(at) << 24) | (key.charCodeAt(at + 1) << 16) | (key.charCodeAt(at + 2) << 8) | key.charCodeAt(at + 3);
}

export class DecisionCache {
  /** Youngest first; created as needed, at most GENERATIONS. */
  private readonly tables: Table[] = [];
  private readonly generations: number;
  private readonly perTable: number;
  private readonly memo = new Map<number, SamplingThreshold>();
  // The current key's fingerprint, set by fingerprint().
  private hi = 0;
  private lo = 0;

  constructor(capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 0) throw new RangeError(`capacity must be an integer >= 0, got ${capacity}`);
    this.generations = Math.min(GENERATIONS, capacity);
    this.perTable = this.generations === 0 ? 0 : Math.floor(capacity / this.generations);
  }

  /** The decision for a trace (`key`: its traceKey), or undefined if none is remembered. */
  get(key: string): Decision | undefined {
    this.fingerprint(key);
    const { hi, lo } = this;
    for (let g = 0; g < this.tables.length; g++) {
      const table = this.tables[g];
      const slot = table.find(hi, lo);
      if (slot < 0) continue;
      const value = table.values[slot];
      if (g > 0) {
        table.remove(slot);
        this.insert(hi, lo, value);
      }
      return this.decode(value);
    }
    return undefined;
  }

  set(key: string, decision: Decision): void {
    if (this.perTable === 0) return;
    this.fingerprint(key);
    const { hi, lo } = this;
    const value = this.encode(decision);
    const young = this.tables[0];
    const slot = young === undefined ? -1 : young.find(hi, lo);
    if (slot >= 0) {
      young.values[slot] = value;
      return;
    }
    for (let g = 1; g < this.tables.length; g++) {
      const old = this.tables[g].find(hi, lo);
      if (old >= 0) this.tables[g].remove(old);
    }
    this.insert(hi, lo, value);
  }

  get size(): number {
    let size = 0;
    for (const table of this.tables) size += table.count;
    return size;
  }

  private fingerprint(key: string): void {
    if (key.length !== 16) throw new RangeError(`decision key must be a 16-character traceKey, got ${key.length} characters`);
    // Multiplying by an odd constant is a bijection on 32 bits, so a difference in any one word shows.
    this.hi = word(key, 8) ^ Math.imul(word(key, 0), 0x9e3779b1);
    this.lo = word(key, 12) ^ Math.imul(word(key, 4), 0x85ebca77);
  }

  private insert(hi: number, lo: number, value: number): void {
    let young = this.tables[0];
    if (young === undefined || young.count >= this.perTable) {
      if (this.tables.length < this.generations) {
        young = new Table(this.perTable);
      } else {
        young = this.tables.pop() as Table;
        young.clear();
      }
      this.tables.unshift(young);
    }
    young.insert(hi, lo, value);
  }

  private encode(decision: Decision): number {
    if (decision === null) return DROPPED;
    this.remember(decision);
    return decision.probability;
  }

  private decode(value: number): Decision {
    if (value === DROPPED) return null;
    return this.memo.get(value) ?? this.remember(thresholdFor(value));
  }

  private remember(threshold: SamplingThreshold): SamplingThreshold {
    if (this.memo.get(threshold.probability) === threshold) return threshold;
    if (this.memo.size >= MAX_MEMO) this.memo.clear();
    this.memo.set(threshold.probability, threshold);
    return threshold;
  }
}
