/**
 * The agent's adaptive trace sampler: keeps every trace with an error or a slow span and samples
 * the rest, consistently by trace id, toward a target number of traces per second.
 */
export { createTraceSampler, type TraceSampler } from './sampler.ts';
export { ADJUSTED_COUNT_ATTRIBUTE } from './mark.ts';
export type { SamplerOptions } from './options.ts';
export { traceRandomness, thresholdFor, type SamplingThreshold } from './randomness.ts';
