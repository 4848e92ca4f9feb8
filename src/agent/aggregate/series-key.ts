/**
 * Series identity: canonical text keys for attribute sets, resources and scopes. Attribute order
 * does not matter (the sets are sorted by key); strings are length-prefixed, so no value can
 * forge a separator. Also makes the copies the window keeps of attributes it stores.
 */
import type { opentelemetry } from '../../otlp/index.ts';
import { intKey } from './numbers.ts';

type AnyValue = opentelemetry.proto.common.v1.AnyValue.$Properties;
type KeyValue = opentelemetry.proto.common.v1.KeyValue.$Properties;
type Resource = opentelemetry.proto.resource.v1.Resource.$Properties;
type Scope = opentelemetry.proto.common.v1.InstrumentationScope.$Properties;

/** One attribute of a series: its key and the canonical text of its value. */
export interface AttributePart {
  key: string;
  value: string;
}

export interface AttributesKey {
  /** The whole set, order-insensitive. */
  key: string;
  /** The attributes sorted by key, for the cardinality limiter's per-attribute value counts. */
  parts: AttributePart[];
}

function text(s: string): string {
  return `${s.length}:${s}`;
}

/** Canonical text of one attribute value, tagged with its type so "1", 1 and 1.0 stay apart. */
export function valueKey(v: AnyValue | null | undefined): string {
  if (!v) return '-';
  if (v.stringValue !== null && v.stringValue !== undefined) return `s${text(v.stringValue)}`;
  if (v.boolValue !== null && v.boolValue !== undefined) return v.boolValue ? 'T' : 'F';
  if (v.intValue !== null && v.intValue !== undefined) return `i${intKey(v.intValue)};`;
  if (v.doubleValue !== null && v.doubleValue !== undefined) return `d${String(v.doubleValue)};`;
  if (v.bytesValue !== null && v.bytesValue !== undefined) return `y${text(Buffer.from(v.bytesValue.buffer, v.bytesValue.byteOffset, v.bytesValue.byteLength).toString('hex'))}`;
  if (v.arrayValue) return `a${(v.arrayValue.values ?? []).length}[${(v.arrayValue.values ?? []).map(valueKey).join('')}]`;
  if (v.kvlistValue) return `k{${attributesKey(v.kvlistValue.values).key}}`;
  return '-';
}

/** The order-insensitive key of an attribute list, with its sorted parts. */
export function attributesKey(attributes: readonly KeyValue[] | null | undefined): AttributesKey {
  if (!attributes || attributes.length === 0) return { key: '', parts: [] };
  const parts: AttributePart[] = attributes.map((kv) => ({ key: kv.key ?? '', value: valueKey(kv.value) }));
  if (parts.length > 1) parts.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
  let key = '';
  for (const p of parts) key += `${text(p.key)}=${p.value}`;
  return { key, parts };
}

/** Resource identity: its attributes (order-insensitive) and the schema URL it is reported under. */
export function resourceKey(resource: Resource | null | undefined, schemaUrl: string | null | undefined): string {
  return `${text(schemaUrl ?? '')}${attributesKey(resource?.attributes).key}`;
}

/** Scope identity: name, version, attributes and schema URL. */
export function scopeKey(scope: Scope | null | undefined, schemaUrl: string | null | undefined): string {
  return `${text(scope?.name ?? '')}${text(scope?.version ?? '')}${text(schemaUrl ?? '')}${attributesKey(scope?.attributes).key}`;
}

/** Whether a value holds a view into the decoded buffer: bytes, or unknown fields kept raw. */
function pinsBuffer(v: AnyValue | null | undefined): boolean {
  if (!v) return false;
  if (v.$unknowns !== undefined) return true;
  if (v.bytesValue !== null && v.bytesValue !== undefined) return true;
  if (v.arrayValue) return (v.arrayValue.values ?? []).some(pinsBuffer);
  if (v.kvlistValue) return (v.kvlistValue.values ?? []).some(keyValuePinsBuffer);
  return false;
}

function keyValuePinsBuffer(kv: KeyValue): boolean {
  return kv.$unknowns !== undefined || pinsBuffer(kv.value);
}

function ownValue(v: AnyValue | null | undefined): AnyValue | undefined {
  if (!v) return undefined;
  if (v.stringValue !== null && v.stringValue !== undefined) return { stringValue: v.stringValue };
  if (v.boolValue !== null && v.boolValue !== undefined) return { boolValue: v.boolValue };
  if (v.intValue !== null && v.intValue !== undefined) return { intValue: v.intValue };
  if (v.doubleValue !== null && v.doubleValue !== undefined) return { doubleValue: v.doubleValue };
  if (v.bytesValue !== null && v.bytesValue !== undefined) return { bytesValue: new Uint8Array(v.bytesValue) };
  if (v.arrayValue) return { arrayValue: { values: (v.arrayValue.values ?? []).map((x) => ownValue(x) ?? {}) } };
  if (v.kvlistValue) return { kvlistValue: { values: ownAttributes(v.kvlistValue.values) } };
  return {};
}

/**
 * Attributes the window may keep past this request. Decoded bytes (and unknown fields) are
 * views into the whole request buffer, so keeping one would pin the request in memory: such
 * lists are copied. Lists without them (nearly all) are kept as they are.
 */
export function ownAttributes(attributes: readonly KeyValue[] | null | undefined): KeyValue[] {
  if (!attributes || attributes.length === 0) return [];
  if (!attributes.some(keyValuePinsBuffer)) return attributes as KeyValue[];
  return attributes.map((kv) => ({ key: kv.key ?? '', value: ownValue(kv.value) }));
}

/** A copy of a resource to keep; only its attributes and dropped count are OTLP fields. */
export function ownResource(resource: Resource | null | undefined): Resource {
  const out: Resource = { attributes: ownAttributes(resource?.attributes) };
  if (resource?.droppedAttributesCount) out.droppedAttributesCount = resource.droppedAttributesCount;
  return out;
}

export function ownScope(scope: Scope | null | undefined): Scope {
  const out: Scope = { name: scope?.name ?? '', version: scope?.version ?? '', attributes: ownAttributes(scope?.attributes) };
  if (scope?.droppedAttributesCount) out.droppedAttributesCount = scope.droppedAttributesCount;
  return out;
}
