/**
 * Test fixture: a chDB store in a temp folder with the schema applied, the API on a fastify
 * instance (driven with inject, no socket), two tenants with their keys, and row builders
 * that fill every column the tests do not care about.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { createStore } from '../../storage/index.ts';
import { migrate } from '../../storage/index.ts';
import type { Store } from '../../storage/index.ts';
import type { KeyResolver } from '../../tenancy/index.ts';
import { registerApi } from '../index.ts';

export const TENANT_A = 'tenant-a';
export const TENANT_B = 'tenant-b';
export const KEY_A = 'key-for-a';
export const KEY_B = 'key-for-b';

export const NS_PER_MS = 1_000_000n;

export interface ApiFixture {
  app: FastifyInstance;
  store: Store;
  /** GETs a URL with the key's bearer header; returns status and parsed JSON body. */
  get(url: string, key?: string | null): Promise<{ status: number; body: any }>;
  close(): Promise<void>;
}

class MapKeys implements KeyResolver {
  readonly #keys = new Map([[KEY_A, TENANT_A], [KEY_B, TENANT_B]]);
  resolve(apiKey: string): string | null {
    return this.#keys.get(apiKey) ?? null;
  }
}

export async function createApiFixture(options: { maxMetricPoints?: number } = {}): Promise<ApiFixture> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ollystack-api-test-'));
  const store = await createStore({ url: `chdb://${dir}` });
  // Long retention: TTL would otherwise hide rows the tests place in the past.
  await migrate(store, { traces: 3650, logs: 3650, metrics: 3650 });
  const app = Fastify({ logger: false });
  await registerApi(app, { store, keys: new MapKeys(), maxMetricPoints: options.maxMetricPoints });
  await app.ready();
  return {
    app,
    store,
    async get(url, key = KEY_A) {
      const headers: Record<string, string> = key === null ? {} : { authorization: `Bearer ${key}` };
      const res = await app.inject({ method: 'GET', url, headers });
      return { status: res.statusCode, body: res.body ? JSON.parse(res.body) : undefined };
    },
    async close() {
      await app.close();
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A time in whole minutes, some minutes before now: recent enough for any TTL, stable within a test. */
export function minutesAgoMs(minutes: number, nowMs: number = Date.now()): number {
  return Math.floor(nowMs / 60_000) * 60_000 - minutes * 60_000;
}

export function msToNsText(ms: number, extraNs = 0n): string {
  return (BigInt(ms) * NS_PER_MS + extraNs).toString();
}

export interface SpanSpec {
  tenant?: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name?: string;
  service?: string;
  kind?: string;
  startNs: string;
  durationNs: number | string;
  status?: string;
  statusMessage?: string;
  attributes?: Record<string, string>;
  resourceAttributes?: Record<string, string>;
  events?: Array<{ timeNs: string; name: string; attributes?: Record<string, string> }>;
}

export function spanRow(s: SpanSpec): Record<string, unknown> {
  const events = s.events ?? [];
  return {
    TenantId: s.tenant ?? TENANT_A,
    Timestamp: s.startNs,
    TraceId: s.traceId,
    SpanId: s.spanId,
    ParentSpanId: s.parentSpanId ?? '',
    TraceState: '',
    SpanName: s.name ?? 'op',
    SpanKind: s.kind ?? 'Server',
    ServiceName: s.service ?? 'svc',
    ResourceAttributes: s.resourceAttributes ?? { 'service.name': s.service ?? 'svc' },
    ScopeName: 'test',
    ScopeVersion: '1',
    SpanAttributes: s.attributes ?? {},
    Duration: String(s.durationNs),
    StatusCode: s.status ?? 'Unset',
    StatusMessage: s.statusMessage ?? '',
    'Events.Timestamp': events.map((e) => e.timeNs),
    'Events.Name': events.map((e) => e.name),
    'Events.Attributes': events.map((e) => e.attributes ?? {}),
    'Links.TraceId': [],
    'Links.SpanId': [],
    'Links.TraceState': [],
    'Links.Attributes': [],
  };
}

export interface LogSpec {
  tenant?: string;
  timeNs: string;
  service?: string;
  severityText?: string;
  severityNumber?: number;
  body: string;
  traceId?: string;
  spanId?: string;
  attributes?: Record<string, string>;
}

export function logRow(l: LogSpec): Record<string, unknown> {
  return {
    TenantId: l.tenant ?? TENANT_A,
    Timestamp: l.timeNs,
    TraceId: l.traceId ?? '',
    SpanId: l.spanId ?? '',
    TraceFlags: 0,
    SeverityText: l.severityText ?? '',
    SeverityNumber: l.severityNumber ?? 0,
    ServiceName: l.service ?? 'svc',
    Body: l.body,
    ResourceAttributes: { 'service.name': l.service ?? 'svc' },
    ScopeName: 'test',
    LogAttributes: l.attributes ?? {},
  };
}

export interface PointSpec {
  tenant?: string;
  name: string;
  service?: string;
  attributes?: Record<string, string>;
  resourceAttributes?: Record<string, string>;
  startNs?: string;
  timeNs: string;
}

/** 2001-09-09: a start time for points whose series start does not matter (JSONEachRow wants 10+ digits). */
export const DEFAULT_START_NS = '1000000000000000000';

function pointBase(p: PointSpec): Record<string, unknown> {
  return {
    TenantId: p.tenant ?? TENANT_A,
    ResourceAttributes: p.resourceAttributes ?? { 'service.name': p.service ?? 'svc' },
    ServiceName: p.service ?? 'svc',
    MetricName: p.name,
    Attributes: p.attributes ?? {},
    StartTimeUnix: p.startNs ?? DEFAULT_START_NS,
    TimeUnix: p.timeNs,
  };
}

export function gaugeRow(p: PointSpec & { value: number }): Record<string, unknown> {
  return { ...pointBase(p), Value: p.value };
}

/** temporality: 1 delta, 2 cumulative (OTLP numbering). */
export function sumRow(p: PointSpec & { value: number; temporality: 1 | 2; monotonic?: boolean }): Record<string, unknown> {
  return { ...pointBase(p), Value: p.value, AggregationTemporality: p.temporality, IsMonotonic: p.monotonic ?? true };
}

export function histogramRow(p: PointSpec & { bounds: number[]; counts: number[]; temporality: 1 | 2 }): Record<string, unknown> {
  const count = p.counts.reduce((a, b) => a + b, 0);
  return {
    ...pointBase(p),
    Count: count,
    Sum: 0,
    BucketCounts: p.counts,
    ExplicitBounds: p.bounds,
    AggregationTemporality: p.temporality,
  };
}

/** Builds a query string, leaving out undefined values. */
export function qs(params: Record<string, string | number | undefined>): string {
  const sp = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) sp.set(k, String(v));
  return sp.toString();
}
