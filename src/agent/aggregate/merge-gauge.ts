/**
 * Gauge merge rule: the last value (latest time) stands for the window. Because a minute of
 * samples reduced to its last one hides spikes, a series that saw more than one value in the
 * window also gets its minimum and maximum, emitted as the gauges `<name>.min` and `<name>.max`
 * with the same attributes (separate metrics rather than extra attributes, so the original
 * series keeps its identity and queries on it are unchanged). Their start time is the earliest
 * sample's time, so the point says which span of time the extreme covers.
 */
import { keepExemplars, type Exemplar } from './exemplars.ts';
import { hasNoValue, type KeyValue, type SeriesMerger } from './merger.ts';
import { copyNumberPoint, readNumber, writeNumber, type NumberDataPoint, type NumberValue } from './number-value.ts';
import { compareNanos, earliest, type Fixed64 } from './numbers.ts';

export interface GaugeExtremes {
  min: NumberDataPoint;
  max: NumberDataPoint;
}

export class GaugeMerger implements SeriesMerger<NumberDataPoint> {
  private last: NumberDataPoint | undefined;
  private firstTime: Fixed64;
  private values = 0;
  private min: NumberValue | undefined;
  private max: NumberValue | undefined;
  private exemplars: Exemplar[] = [];

  add(point: NumberDataPoint): void {
    this.exemplars = keepExemplars(this.exemplars, point.exemplars);
    this.firstTime = this.last === undefined ? point.timeUnixNano : earliest(this.firstTime, point.timeUnixNano);
    if (this.last === undefined || compareNanos(point.timeUnixNano, this.last.timeUnixNano) >= 0) this.last = copyNumberPoint(point);
    const v = readNumber(point);
    if (v === undefined || hasNoValue(point)) return;
    this.values++;
    if (this.min === undefined || v.value < this.min.value) this.min = v;
    if (this.max === undefined || v.value > this.max.value) this.max = v;
  }

  /** The last point of the window. */
  take(attributes: KeyValue[]): NumberDataPoint[] {
    if (this.last === undefined) return [];
    const last: NumberDataPoint = { ...this.last, attributes };
    if (this.exemplars.length > 0) last.exemplars = this.exemplars;
    return [last];
  }

  /** The window's minimum and maximum, when it saw more than one value. */
  extremes(attributes: KeyValue[]): GaugeExtremes | undefined {
    if (this.last === undefined || this.values < 2 || this.min === undefined || this.max === undefined) return undefined;
    const time = this.last.timeUnixNano;
    const extreme = (v: NumberValue): NumberDataPoint => writeNumber({ attributes, startTimeUnixNano: this.firstTime, timeUnixNano: time }, v);
    return { min: extreme(this.min), max: extreme(this.max) };
  }
}
