/**
 * Rebuilds an OTLP traces request from kept spans: each is decoded from its held encoding and
 * marked with the threshold it was kept with; spans of the same scope origin are grouped under it
 * again, and scopes under their resource.
 */
import type { ExportRequestPropertiesBySignal } from '../../otlp/index.ts';
import { decodeResource, decodeScope, decodeSpans } from './encoding.ts';
import type { HeldSpan, Span } from './held-span.ts';
import { mark } from './mark.ts';
import type { ResourceOrigin, ScopeOrigin } from './origins.ts';

export function buildTraceRequest(held: readonly HeldSpan[]): ExportRequestPropertiesBySignal['traces'] {
  // Decoded from one copy of the batch's encodings: decoded ids are views into the bytes they came
  // from, so what downstream keeps of this batch pins that copy, not the sampler's slabs.
  let total = 0;
  for (const h of held) total += h.length;
  const bytes = Buffer.allocUnsafeSlow(total);
  const lengths: number[] = [];
  let offset = 0;
  for (const h of held) {
    h.slab.copy(bytes, offset, h.offset, h.offset + h.length);
    offset += h.length;
    lengths.push(h.length);
  }
  const spans = decodeSpans(bytes, lengths);

  const byResource = new Map<ResourceOrigin, Map<ScopeOrigin, Span[]>>();
  for (let i = 0; i < held.length; i++) {
    const { origin, threshold } = held[i];
    if (threshold === undefined) throw new Error('sampler: a span without a decision was queued for output');
    mark(spans[i], threshold);
    let scopes = byResource.get(origin.resource);
    if (!scopes) {
      scopes = new Map();
      byResource.set(origin.resource, scopes);
    }
    let scopeSpans = scopes.get(origin);
    if (!scopeSpans) {
      scopeSpans = [];
      scopes.set(origin, scopeSpans);
    }
    scopeSpans.push(spans[i]);
  }
  const resourceSpans = [];
  for (const [resource, scopes] of byResource) {
    const scopeSpans = [];
    for (const [scope, list] of scopes) scopeSpans.push({ scope: decodeScope(scope.encoded), schemaUrl: scope.schemaUrl, spans: list });
    resourceSpans.push({ resource: decodeResource(resource.encoded), schemaUrl: resource.schemaUrl, scopeSpans });
  }
  return { resourceSpans };
}
