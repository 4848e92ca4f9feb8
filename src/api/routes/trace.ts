import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { tenantOf } from '../auth.ts';
import { notFound } from '../errors.ts';
import { parseQuery, traceIdParam } from '../params.ts';
import type { Store } from '../../storage/index.ts';
import { TRACES_TABLE } from '../../storage/index.ts';

const Params = z.object({ traceId: traceIdParam });

// No time range: a trace id is enough, and the TraceId bloom filter index skips the
// granules that cannot hold it.
const SPANS_SQL = `SELECT SpanId, ParentSpanId, SpanName, ServiceName, SpanKind,
  toString(toUnixTimestamp64Nano(Timestamp)) AS start, toString(Duration) AS duration,
  StatusCode, StatusMessage, SpanAttributes, ResourceAttributes,
  arrayMap(t -> toString(toUnixTimestamp64Nano(t)), Events.Timestamp) AS eventTimes,
  Events.Name AS eventNames, Events.Attributes AS eventAttributes
FROM ${TRACES_TABLE}
WHERE TenantId = {tenant:String} AND TraceId = {traceId:String}
ORDER BY Timestamp, SpanId`;

interface SpanRow {
  SpanId: string;
  ParentSpanId: string;
  SpanName: string;
  ServiceName: string;
  SpanKind: string;
  start: string;
  duration: string;
  StatusCode: string;
  StatusMessage: string;
  SpanAttributes: Record<string, string>;
  ResourceAttributes: Record<string, string>;
  eventTimes: string[];
  eventNames: string[];
  eventAttributes: Array<Record<string, string>>;
}

export interface SpanEvent {
  timeUnixNano: string;
  name: string;
  attributes: Record<string, string>;
}

export interface SpanView {
  spanId: string;
  parentSpanId: string;
  name: string;
  serviceName: string;
  kind: string;
  startTimeUnixNano: string;
  durationNano: string;
  statusCode: string;
  statusMessage: string;
  attributes: Record<string, string>;
  resourceAttributes: Record<string, string>;
  events: SpanEvent[];
}

function toSpan(row: SpanRow): SpanView {
  const events: SpanEvent[] = row.eventNames.map((name, i) => ({
    timeUnixNano: row.eventTimes[i],
    name,
    attributes: row.eventAttributes[i],
  }));
  return {
    spanId: row.SpanId,
    parentSpanId: row.ParentSpanId,
    name: row.SpanName,
    serviceName: row.ServiceName,
    kind: row.SpanKind,
    startTimeUnixNano: row.start,
    durationNano: row.duration,
    statusCode: row.StatusCode,
    statusMessage: row.StatusMessage,
    attributes: row.SpanAttributes,
    resourceAttributes: row.ResourceAttributes,
    events,
  };
}

export function registerTraceRoute(app: FastifyInstance, store: Store): void {
  app.get('/api/v1/traces/:traceId', async (request) => {
    const { traceId } = parseQuery(Params, request.params);
    const rows = await store.query<SpanRow>(SPANS_SQL, { tenant: tenantOf(request), traceId });
    if (rows.length === 0) throw notFound(`trace ${traceId} not found`);
    return { traceId, spans: rows.map(toSpan) };
  });
}
