/**
 * Where held spans came from: the resource of their resourceSpans and the instrumentation scope of
 * their scopeSpans, each with its schemaUrl, held encoded. Origins are interned by content: the
 * batches of a steady sender (or of one that sends a span per request) share one origin instead
 * of holding a copy each, and kept spans that came in separate batches are grouped under one
 * resourceSpans again on the way out. The tables are bounded: past MAX_ORIGINS entries one starts
 * over (held spans keep their own origins alive), which costs only some of that sharing.
 */
import type { opentelemetry } from '../../otlp/index.ts';
import { encodeResource, encodeScope } from './encoding.ts';

type Resource = opentelemetry.proto.resource.v1.Resource.$Properties;
type Scope = opentelemetry.proto.common.v1.InstrumentationScope.$Properties;

const MAX_ORIGINS = 1024;

/** A key that tells apart every (schemaUrl, encoding) pair, an absent message from an empty one included. */
function internKey(schemaUrl: string, encoded: string | null): string {
  return `${schemaUrl.length}:${schemaUrl}${encoded === null ? '-' : `+${encoded}`}`;
}

export class ResourceOrigin {
  /** The resource's protobuf encoding as a one-byte string; null if the resourceSpans had none. */
  readonly encoded: string | null;
  readonly schemaUrl: string;
  /** This resource's scopes, interned. */
  readonly scopes = new Map<string, ScopeOrigin>();

  constructor(encoded: string | null, schemaUrl: string) {
    this.encoded = encoded;
    this.schemaUrl = schemaUrl;
  }
}

export class ScopeOrigin {
  readonly resource: ResourceOrigin;
  /** The scope's protobuf encoding as a one-byte string; null if the scopeSpans had none. */
  readonly encoded: string | null;
  readonly schemaUrl: string;

  constructor(resource: ResourceOrigin, encoded: string | null, schemaUrl: string) {
    this.resource = resource;
    this.encoded = encoded;
    this.schemaUrl = schemaUrl;
  }
}

export class OriginTable {
  private readonly resources = new Map<string, ResourceOrigin>();

  /** The origin for a resourceSpans' resource and schemaUrl; the same object for the same content. */
  resource(resource: Resource | null | undefined, schemaUrl: string | null | undefined): ResourceOrigin {
    const encoded = encodeResource(resource);
    const url = schemaUrl ?? '';
    const key = internKey(url, encoded);
    let origin = this.resources.get(key);
    if (origin === undefined) {
      if (this.resources.size >= MAX_ORIGINS) this.resources.clear();
      origin = new ResourceOrigin(encoded, url);
      this.resources.set(key, origin);
    }
    return origin;
  }

  /** The origin for a scopeSpans' scope and schemaUrl under `resource`; the same object for the same content. */
  scope(resource: ResourceOrigin, scope: Scope | null | undefined, schemaUrl: string | null | undefined): ScopeOrigin {
    const encoded = encodeScope(scope);
    const url = schemaUrl ?? '';
    const key = internKey(url, encoded);
    let origin = resource.scopes.get(key);
    if (origin === undefined) {
      if (resource.scopes.size >= MAX_ORIGINS) resource.scopes.clear();
      origin = new ScopeOrigin(resource, encoded, url);
      resource.scopes.set(key, origin);
    }
    return origin;
  }

  get size(): number {
    return this.resources.size;
  }
}
