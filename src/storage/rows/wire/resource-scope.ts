/**
 * The envelope every OTLP Export request shares: request -> ResourceX (resource, schema_url) ->
 * ScopeX (scope, schema_url) -> items. One walker serves the three signals; each signal says
 * what text its rows take from the resource and the scope, and how one item becomes rows.
 *
 * Each ResourceX / ScopeX is walked twice: first its own fields (validated, the last occurrence
 * of a merged message winning, as protobufjs decodes), then its items, which need that text.
 */
import type { MessageSpec } from '../../../otlp/index.ts';
import { DEFAULT_SERVICE_NAME } from '../values.ts';
import { skipField } from './check.ts';
import type { WireCursor } from './cursor.ts';
import { RESOURCE, SCOPE } from './specs.ts';
import { checkUtf8, jsonQuote } from './text.ts';
import { Ranges, serviceName, writeAttributes } from './any-value-bytes.ts';
import { JsonBytes, fragment } from './json-bytes.ts';

/** An InstrumentationScope's fields (merged over repeated occurrences). */
export class ScopeFields {
  nameJson = '""';
  versionJson = '""';
  dropped = 0;
  /** KeyValue ranges of its attributes. */
  readonly attrs = new Ranges();

  reset(): void {
    this.nameJson = '""';
    this.versionJson = '""';
    this.dropped = 0;
    this.attrs.n = 0;
  }
}

/** How one signal turns the envelope into rows; R and S are its resource and scope text. */
export interface SignalRows<Out, R = Buffer, S = Buffer> {
  /** The messages, for errors and for validating the fields nobody reads. */
  readonly request: MessageSpec;
  readonly resourceX: MessageSpec;
  readonly scopeX: MessageSpec;
  /** Whether the schema_url fields become columns (else they are only checked to be UTF-8). */
  readonly keepsSchemaUrls: boolean;
  /** Text every row of a ResourceX shares; `attrs` are the resource's attribute ranges. */
  resourceText(c: WireCursor, head: string, attrs: Ranges, schemaJson: string): R;
  /** Text every row of a ScopeX shares, given the resource's. */
  scopeText(c: WireCursor, resource: R, scope: ScopeFields, schemaJson: string): S;
  /** Appends the rows of the item in [start, end); returns how many. */
  item(c: WireCursor, start: number, end: number, head: string, scopeText: S, out: Out): number;
}

// The walk is synchronous and never re-entered, so one scratch of each serves every request.
const resourceAttrs = new Ranges();
const scope = new ScopeFields();

/** Walks a whole Export request (the cursor at its start); returns the rows appended. */
export function walkExport<Out, R, S>(c: WireCursor, rows: SignalRows<Out, R, S>, head: string, out: Out): number {
  const end = c.b.length;
  let n = 0;
  while (c.pos < end) {
    const tag = c.tag(end);
    if (tag === 0x0a) {
      const e = c.delimited(end);
      n += walkResourceX(c, rows, c.pos, e, head, out);
      c.pos = e;
    } else {
      skipField(c, tag, end, rows.request, 0);
    }
  }
  return n;
}

function walkResourceX<Out, R, S>(c: WireCursor, rows: SignalRows<Out, R, S>, start: number, end: number, head: string, out: Out): number {
  resourceAttrs.n = 0;
  const schemaJson = walkEnvelope(c, start, end, rows.resourceX, rows.keepsSchemaUrls, walkResource);
  const resource = rows.resourceText(c, head, resourceAttrs, schemaJson);
  let n = 0;
  c.pos = start;
  while (c.pos < end) {
    const tag = c.tag(end);
    if (tag === 0x12) {
      const e = c.delimited(end);
      n += walkScopeX(c, rows, c.pos, e, head, resource, out);
      c.pos = e;
    } else {
      skipKnown(c, tag, end);
    }
  }
  return n;
}

function walkScopeX<Out, R, S>(c: WireCursor, rows: SignalRows<Out, R, S>, start: number, end: number, head: string, resource: R, out: Out): number {
  scope.reset();
  const schemaJson = walkEnvelope(c, start, end, rows.scopeX, rows.keepsSchemaUrls, walkScope);
  const text = rows.scopeText(c, resource, scope, schemaJson);
  let n = 0;
  c.pos = start;
  while (c.pos < end) {
    const tag = c.tag(end);
    if (tag === 0x12) {
      const e = c.delimited(end);
      n += rows.item(c, c.pos, e, head, text, out);
      c.pos = e;
    } else {
      skipKnown(c, tag, end);
    }
  }
  return n;
}

/**
 * First pass over a ResourceX or ScopeX, whose layouts match: field 1 the Resource or
 * InstrumentationScope (handed to `walkHead`), 2 the items (skipped here), 3 schema_url.
 * Returns the schema URL as JSON ('""' when not kept).
 */
function walkEnvelope(
  c: WireCursor,
  start: number,
  end: number,
  spec: MessageSpec,
  keepSchemaUrl: boolean,
  walkHead: (c: WireCursor, start: number, end: number) => void,
): string {
  let schemaJson = '""';
  c.pos = start;
  while (c.pos < end) {
    const tag = c.tag(end);
    if (tag === 0x0a) {
      const e = c.delimited(end);
      walkHead(c, c.pos, e);
      c.pos = e;
    } else if (tag === 0x12) {
      c.pos = c.delimited(end);
    } else if (tag === 0x1a) {
      if (keepSchemaUrl) {
        schemaJson = c.jsonString(end);
      } else {
        const e = c.delimited(end);
        checkUtf8(c.b, c.pos, e);
        c.pos = e;
      }
    } else {
      skipField(c, tag, end, spec, 0);
    }
  }
  return schemaJson;
}

/** Collects a Resource's attribute ranges (a resource seen twice is merged, as protobufjs does). */
function walkResource(c: WireCursor, start: number, end: number): void {
  c.pos = start;
  while (c.pos < end) {
    const tag = c.tag(end);
    if (tag === 0x0a) resourceAttrs.pushField(c, end);
    else skipField(c, tag, end, RESOURCE, 0);
  }
}

function walkScope(c: WireCursor, start: number, end: number): void {
  c.pos = start;
  while (c.pos < end) {
    const tag = c.tag(end);
    switch (tag) {
      case 0x0a:
        scope.nameJson = c.jsonString(end);
        break;
      case 0x12:
        scope.versionJson = c.jsonString(end);
        break;
      case 0x1a:
        scope.attrs.pushField(c, end);
        break;
      case 0x20:
        scope.dropped = c.varint(end);
        break;
      default:
        skipField(c, tag, end, SCOPE, 0);
    }
  }
}

/** Skips a field already validated by a first pass over the same message. */
export function skipKnown(c: WireCursor, tag: number, end: number): void {
  c.skip(tag & 7, tag >>> 3, end);
}

// Scratch writers for the per-ResourceX / per-ScopeX text (small; grown on demand).
const attrsScratch = new JsonBytes(1 << 12);
const envScratch = new JsonBytes(1 << 12);
const SERVICE_NAME_COLUMN = fragment(',"ServiceName":');
const RESOURCE_ATTRIBUTES_COLUMN = fragment(',"ResourceAttributes":');

/** The resource's ServiceName and ResourceAttributes columns (',"ServiceName":...'), written to a fresh scratch writer; the caller appends more and copies it out with bytesOf. */
export function resourceColumnsBytes(c: WireCursor, attrs: Ranges): JsonBytes {
  attrsScratch.pos = 0;
  writeAttributes(c, attrsScratch, attrs, true);
  const name = serviceName;
  const w = envScratch;
  w.pos = 0;
  w.raw(SERVICE_NAME_COLUMN);
  w.utf8(jsonQuote(name === undefined || name === '' ? DEFAULT_SERVICE_NAME : name));
  w.raw(RESOURCE_ATTRIBUTES_COLUMN);
  w.copy(attrsScratch.buf, 0, attrsScratch.pos);
  return w;
}

const RESOURCE_SCHEMA_URL_COLUMN = fragment(',"ResourceSchemaUrl":');

/** resourceText of the tables that keep the resource's schema URL (logs, metrics). */
export function resourceTextWithSchemaUrl(c: WireCursor, _head: string, attrs: Ranges, schemaJson: string): Buffer {
  const w = resourceColumnsBytes(c, attrs);
  w.raw(RESOURCE_SCHEMA_URL_COLUMN);
  w.utf8(schemaJson);
  return bytesOf(w);
}

/** A copy of everything written to the writer (text shared by many rows outlives the scratch). */
export function bytesOf(w: JsonBytes): Buffer {
  return Buffer.from(w.view());
}

/** The scratch writer for scope text: starts with the resource's bytes. */
export function scopeScratch(resource: Buffer): JsonBytes {
  envScratch.pos = 0;
  envScratch.raw(resource);
  return envScratch;
}
