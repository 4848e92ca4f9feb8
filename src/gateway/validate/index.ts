/** Per-item validation and limits of the gateway's ingest path (OTLP partial success). */
export { validateRequest, type ValidationResult } from './validate.ts';
export { type ValidationLimits } from './limits.ts';
export { TRUNCATION_MARKER } from './truncate.ts';
