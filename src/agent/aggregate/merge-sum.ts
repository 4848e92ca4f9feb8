/**
 * Sum merge rules. DELTA: the window's values add up (an int stays an int while every input is
 * one), from the earliest start to the latest time. CUMULATIVE (and the invalid UNSPECIFIED):
 * the latest point, which already includes the earlier ones.
 */
import { keepExemplars, type Exemplar } from './exemplars.ts';
import { LastMerger, NO_RECORDED_VALUE, hasNoValue, type KeyValue, type SeriesMerger } from './merger.ts';
import { copyNumberPoint, readNumber, writeNumber, type NumberDataPoint } from './number-value.ts';
import { earliest, latest, type Fixed64 } from './numbers.ts';

export class DeltaSumMerger implements SeriesMerger<NumberDataPoint> {
  private start: Fixed64;
  private time: Fixed64;
  private seen = false;
  private hasValue = false;
  private int = true;
  private value = 0;
  private exemplars: Exemplar[] = [];

  add(point: NumberDataPoint): void {
    this.start = this.seen ? earliest(this.start, point.startTimeUnixNano) : point.startTimeUnixNano;
    this.time = this.seen ? latest(this.time, point.timeUnixNano) : point.timeUnixNano;
    this.seen = true;
    this.exemplars = keepExemplars(this.exemplars, point.exemplars);
    const v = readNumber(point);
    // A gap marker adds nothing; the window only reports a gap if it saw no value at all.
    if (v === undefined || hasNoValue(point)) return;
    this.value = this.hasValue ? this.value + v.value : v.value;
    this.int = this.hasValue ? this.int && v.int : v.int;
    this.hasValue = true;
  }

  take(attributes: KeyValue[]): NumberDataPoint[] {
    if (!this.seen) return [];
    const out: NumberDataPoint = { attributes, startTimeUnixNano: this.start, timeUnixNano: this.time };
    if (this.exemplars.length > 0) out.exemplars = this.exemplars;
    if (!this.hasValue) {
      out.flags = NO_RECORDED_VALUE;
      return [out];
    }
    return [writeNumber(out, { int: this.int, value: this.value })];
  }
}

export function cumulativeSumMerger(): SeriesMerger<NumberDataPoint> {
  return new LastMerger(copyNumberPoint);
}
