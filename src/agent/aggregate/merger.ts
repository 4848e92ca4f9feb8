/**
 * What every per-type merge rule implements, and the rule shared by cumulative series and
 * summaries: the latest point wins (a cumulative point already holds everything before it).
 */
import type { opentelemetry } from '../../otlp/index.ts';
import { keepExemplars, type Exemplar } from './exemplars.ts';
import { compareNanos, type Fixed64 } from './numbers.ts';

export type KeyValue = opentelemetry.proto.common.v1.KeyValue.$Properties;

/** DataPointFlags.FLAG_NO_RECORDED_VALUE: the point marks a gap (e.g. a stale series), not a value. */
export const NO_RECORDED_VALUE = 1;

/** The fields every OTLP data point type has. */
export interface PointBase {
  attributes?: KeyValue[] | null;
  startTimeUnixNano?: Fixed64;
  timeUnixNano?: Fixed64;
  flags?: number | null;
  exemplars?: Exemplar[] | null;
}

export function hasNoValue(point: PointBase): boolean {
  return ((point.flags ?? 0) & NO_RECORDED_VALUE) !== 0;
}

/** One series' state over a window under one merge rule. */
export interface SeriesMerger<P extends PointBase> {
  /** Folds one more point of the series into the window. */
  add(point: P): void;
  /** The series' points for the window, oldest first, carrying `attributes`. */
  take(attributes: KeyValue[]): P[];
}

/**
 * Keeps the point with the latest time (the later arrival on a tie) as a plain copy, so the
 * window does not hold on to decoded requests. Exemplars are kept across the window's points.
 */
export class LastMerger<P extends PointBase> implements SeriesMerger<P> {
  private readonly copy: (point: P) => P;
  private last: P | undefined;
  private exemplars: Exemplar[] = [];

  constructor(copy: (point: P) => P) {
    this.copy = copy;
  }

  add(point: P): void {
    this.exemplars = keepExemplars(this.exemplars, point.exemplars);
    if (this.last === undefined || compareNanos(point.timeUnixNano, this.last.timeUnixNano) >= 0) this.last = this.copy(point);
  }

  take(attributes: KeyValue[]): P[] {
    if (this.last === undefined) return [];
    const out: P = { ...this.last, attributes };
    if (this.exemplars.length > 0) out.exemplars = this.exemplars;
    else delete out.exemplars;
    return [out];
  }
}
