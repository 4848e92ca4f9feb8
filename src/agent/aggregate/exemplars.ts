/** Exemplars kept per series over a window: the most recent few, copied out of the request. */
import type { opentelemetry } from '../../otlp/index.ts';
import { ownAttributes } from './series-key.ts';

export type Exemplar = opentelemetry.proto.metrics.v1.Exemplar.$Properties;

/** Enough to link a window's point to a few traces; more would only grow the state. */
export const MAX_EXEMPLARS = 4;

function copyBytes(b: Uint8Array | null | undefined): Uint8Array | undefined {
  return b && b.length > 0 ? new Uint8Array(b) : undefined;
}

/** A plain copy: decoded ids are views into the request buffer and would pin it in memory. */
function ownExemplar(e: Exemplar): Exemplar {
  const out: Exemplar = { timeUnixNano: e.timeUnixNano };
  const attributes = ownAttributes(e.filteredAttributes);
  if (attributes.length > 0) out.filteredAttributes = attributes;
  if (e.asInt !== null && e.asInt !== undefined) out.asInt = e.asInt;
  else if (e.asDouble !== null && e.asDouble !== undefined) out.asDouble = e.asDouble;
  const traceId = copyBytes(e.traceId);
  const spanId = copyBytes(e.spanId);
  if (traceId) out.traceId = traceId;
  if (spanId) out.spanId = spanId;
  return out;
}

/** `kept` plus the incoming exemplars, the last MAX_EXEMPLARS of them (arrival order). */
export function keepExemplars(kept: Exemplar[], incoming: readonly Exemplar[] | null | undefined): Exemplar[] {
  if (!incoming || incoming.length === 0) return kept;
  const start = Math.max(0, incoming.length - MAX_EXEMPLARS);
  const added = incoming.slice(start).map(ownExemplar);
  const all = kept.length === 0 ? added : kept.concat(added);
  return all.length > MAX_EXEMPLARS ? all.slice(all.length - MAX_EXEMPLARS) : all;
}
