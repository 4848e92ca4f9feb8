import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { tenantOf } from '../auth.ts';
import { limitParam, oneOf, parseQuery, text, timeParams } from '../params.ts';
import { TRACES_IN_RANGE, rangeParams, toNumber } from '../sql.ts';
import { parseTimeRange } from '../time.ts';
import type { QueryParams, Store } from '../../storage/index.ts';
import { TRACES_TABLE } from '../../storage/index.ts';

const STATUS = { ok: 'Ok', error: 'Error', unset: 'Unset' } as const;

const Query = z.object({
  ...timeParams,
  service: text(256).optional(),
  status: oneOf(['ok', 'error', 'unset']).optional(),
  minDurationMs: z
    .string({ error: 'must be given once, as text' })
    .regex(/^\d{1,12}(\.\d{1,6})?$/, 'must be a non-negative number of milliseconds')
    .optional(),
  limit: limitParam,
});

/**
 * Spans of the chosen traces are read within the search range widened by this much on each
 * side: keeps partition pruning while letting traces that straddle the range come back whole.
 */
export const TRACE_ASSEMBLY_MARGIN_NS = 60n * 60n * 1_000_000_000n;

interface TraceRow {
  traceId: string;
  rootServiceName: string;
  rootSpanName: string;
  startTimeUnixNano: string;
  durationNano: string;
  spanCount: string | number;
  errorCount: string | number;
  services: string[];
}

function searchSql(filters: string[]): string {
  const matching = filters.length === 0 ? '' : ' AND ' + filters.join(' AND ');
  // The root is the span without a parent; an incomplete trace falls back to its earliest span.
  return `SELECT TraceId AS traceId,
  argMin(ServiceName, (ParentSpanId != '', Timestamp)) AS rootServiceName,
  argMin(SpanName, (ParentSpanId != '', Timestamp)) AS rootSpanName,
  min(toUnixTimestamp64Nano(Timestamp)) AS startNs,
  toString(startNs) AS startTimeUnixNano,
  toString(max(toUnixTimestamp64Nano(Timestamp) + toInt64(Duration)) - startNs) AS durationNano,
  count() AS spanCount,
  countIf(StatusCode = 'Error') AS errorCount,
  arraySort(groupUniqArray(ServiceName)) AS services
FROM ${TRACES_TABLE}
WHERE TenantId = {tenant:String}
  AND Timestamp >= fromUnixTimestamp64Nano({wideFromNs:Int64}) AND Timestamp < fromUnixTimestamp64Nano({wideToNs:Int64})
  AND TraceId IN (
    SELECT TraceId FROM ${TRACES_TABLE}
    WHERE ${TRACES_IN_RANGE}${matching}
    GROUP BY TraceId
    ORDER BY min(Timestamp) DESC, TraceId
    LIMIT {limit:UInt32})
GROUP BY TraceId
ORDER BY startNs DESC, traceId`;
}

export function registerTraceSearchRoute(app: FastifyInstance, store: Store): void {
  app.get('/api/v1/traces', async (request) => {
    const query = parseQuery(Query, request.query);
    const range = parseTimeRange(query.from, query.to);
    const params: QueryParams = {
      ...rangeParams(tenantOf(request), range),
      wideFromNs: (range.fromNs > TRACE_ASSEMBLY_MARGIN_NS ? range.fromNs - TRACE_ASSEMBLY_MARGIN_NS : 0n).toString(),
      wideToNs: (range.toNs + TRACE_ASSEMBLY_MARGIN_NS).toString(),
      limit: query.limit,
    };
    const filters: string[] = [];
    if (query.service !== undefined) {
      filters.push('ServiceName = {service:String}');
      params.service = query.service;
    }
    if (query.status !== undefined) {
      filters.push('StatusCode = {status:String}');
      params.status = STATUS[query.status];
    }
    if (query.minDurationMs !== undefined) {
      filters.push('Duration >= {minDurationNs:UInt64}');
      params.minDurationNs = Math.round(Number(query.minDurationMs) * 1e6).toString();
    }
    const rows = await store.query<TraceRow>(searchSql(filters), params);
    const traces = rows.map((r) => ({
      traceId: r.traceId,
      rootServiceName: r.rootServiceName,
      rootSpanName: r.rootSpanName,
      startTimeUnixNano: r.startTimeUnixNano,
      durationNano: r.durationNano,
      spanCount: toNumber(r.spanCount),
      errorCount: toNumber(r.errorCount),
      services: r.services,
    }));
    return { traces };
  });
}
