/**
 * In-memory sparse index of one segment: every ~INDEX_INTERVAL_BYTES an entry of
 * (offset, file position, largest timestamp of the records *before* it in the segment).
 * Struct-of-typed-arrays so millions of entries cost no per-entry objects.
 */
export const INDEX_INTERVAL_BYTES = 4096;

export class SparseIndex {
  private offsets = new Float64Array(16);
  private positions = new Float64Array(16);
  private maxTsBefore = new Float64Array(16);
  length = 0;

  add(offset: number, position: number, maxTimestampBefore: number): void {
    if (this.length === this.offsets.length) this.grow();
    this.offsets[this.length] = offset;
    this.positions[this.length] = position;
    this.maxTsBefore[this.length] = maxTimestampBefore;
    this.length++;
  }

  /** File position of the last entry whose offset is <= `offset` (0 when none). */
  positionForOffset(offset: number): number {
    const i = lastIndexWhere(this.offsets, this.length, (v) => v <= offset);
    return i < 0 ? 0 : this.positions[i];
  }

  /**
   * File position from which a scan finds the first record with timestamp >= `timestamp`:
   * every record before the last entry whose preceding maximum is < timestamp is older.
   */
  positionForTime(timestamp: number): number {
    const i = lastIndexWhere(this.maxTsBefore, this.length, (v) => v < timestamp);
    return i < 0 ? 0 : this.positions[i];
  }

  private grow(): void {
    const n = this.offsets.length * 2;
    const o = new Float64Array(n);
    o.set(this.offsets);
    this.offsets = o;
    const p = new Float64Array(n);
    p.set(this.positions);
    this.positions = p;
    const t = new Float64Array(n);
    t.set(this.maxTsBefore);
    this.maxTsBefore = t;
  }
}

/** Binary search over a prefix-true (monotone) predicate: the last index where it holds, or -1. */
function lastIndexWhere(values: Float64Array, length: number, pred: (v: number) => boolean): number {
  let lo = 0;
  let hi = length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (pred(values[mid])) {
      found = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return found;
}
