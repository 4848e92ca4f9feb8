/** How a kept span records the decision: the adjusted count attribute and the `ot=th` tracestate value. */
import { dbl } from '../../otlp/index.ts';
import type { Span } from './held-span.ts';
import type { SamplingThreshold } from './randomness.ts';
import { withThreshold } from './tracestate.ts';

/** How many traces a kept span stands for; queries sum it to count traces and spans before sampling. */
export const ADJUSTED_COUNT_ATTRIBUTE = 'sampling.adjusted_count';

export function mark(span: Span, threshold: SamplingThreshold): void {
  // A new array: decoded messages may share protobufjs's frozen empty array.
  const attributes = span.attributes ? span.attributes.filter((kv) => kv.key !== ADJUSTED_COUNT_ATTRIBUTE) : [];
  attributes.push(dbl(ADJUSTED_COUNT_ATTRIBUTE, threshold.adjustedCount));
  span.attributes = attributes;
  if (threshold.thHex !== '') span.traceState = withThreshold(span.traceState, threshold.thHex);
}
