/** Reading and writing the value of a NumberDataPoint (Sum and Gauge): int64 or double. */
import type { opentelemetry } from '../../otlp/index.ts';
import { toNumber } from './numbers.ts';

export type NumberDataPoint = opentelemetry.proto.metrics.v1.NumberDataPoint.$Properties;

export interface NumberValue {
  /** Came as asInt; results stay integers only while every input was one. */
  int: boolean;
  value: number;
}

/** The point's value, or undefined when it carries neither asInt nor asDouble. */
export function readNumber(point: NumberDataPoint): NumberValue | undefined {
  if (point.asInt !== null && point.asInt !== undefined) return { int: true, value: toNumber(point.asInt) };
  if (point.asDouble !== null && point.asDouble !== undefined) return { int: false, value: point.asDouble };
  return undefined;
}

/** Sets the value field matching the type (exactly one of the oneof, as the encoder expects). */
export function writeNumber(point: NumberDataPoint, v: NumberValue): NumberDataPoint {
  if (v.int) point.asInt = v.value;
  else point.asDouble = v.value;
  return point;
}

/** A plain copy of a number point without attributes or exemplars (the merger adds those). */
export function copyNumberPoint(point: NumberDataPoint): NumberDataPoint {
  const out: NumberDataPoint = { timeUnixNano: point.timeUnixNano };
  if (point.startTimeUnixNano !== null && point.startTimeUnixNano !== undefined) out.startTimeUnixNano = point.startTimeUnixNano;
  if (point.flags) out.flags = point.flags;
  // The original int64 is kept as it came (Long, number or string): exact past 2^53.
  if (point.asInt !== null && point.asInt !== undefined) out.asInt = point.asInt;
  else if (point.asDouble !== null && point.asDouble !== undefined) out.asDouble = point.asDouble;
  return out;
}
