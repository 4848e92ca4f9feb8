/**
 * Validation of a pipeline component's options, shared by the processors: each check returns
 * the value or its default, and a bad value throws a TypeError naming the component and field.
 */
import type { Consumer } from './types.ts';

export interface OptionChecks {
  positive(field: string, value: unknown, fallback: number): number;
  nonNegative(field: string, value: unknown, fallback: number): number;
  integerAtLeast(field: string, value: unknown, min: number, fallback: number): number;
  optionalFunction<F>(field: string, value: unknown, fallback: F): F;
  consumer(value: unknown): Consumer;
}

export function optionChecks(component: string): OptionChecks {
  const fail = (field: string, expected: string, got: unknown): never => {
    throw new TypeError(`${component}: ${field} must be ${expected}, got ${typeof got === 'number' ? got : (JSON.stringify(got) ?? typeof got)}`);
  };
  return {
    positive(field, value, fallback) {
      if (value === undefined) return fallback;
      if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) fail(field, 'a finite number > 0', value);
      return value as number;
    },
    nonNegative(field, value, fallback) {
      if (value === undefined) return fallback;
      if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) fail(field, 'a finite number >= 0', value);
      return value as number;
    },
    integerAtLeast(field, value, min, fallback) {
      if (value === undefined) return fallback;
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) fail(field, `an integer >= ${min}`, value);
      return value as number;
    },
    optionalFunction<F>(field: string, value: unknown, fallback: F): F {
      if (value === undefined) return fallback;
      if (typeof value !== 'function') fail(field, 'a function', value);
      return value as F;
    },
    consumer(value) {
      if (typeof (value as Consumer | undefined)?.consume !== 'function') throw new TypeError(`${component}: next must be a Consumer (an object with consume())`);
      return value as Consumer;
    },
  };
}
