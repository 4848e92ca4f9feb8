import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { tenantOf } from '../auth.ts';
import { badParam } from '../errors.ts';
import { limitParam, oneOf, parseQuery, text, timeParams, traceIdParam } from '../params.ts';
import { SEVERITIES, SEVERITY_SQL, severityFilter } from '../severity.ts';
import { LOGS_IN_RANGE, rangeParams } from '../sql.ts';
import { parseTimeRange } from '../time.ts';
import { searchTokens } from '../tokens.ts';
import type { QueryParams, Store } from '../../storage/index.ts';
import { LOGS_TABLE } from '../../storage/index.ts';

/** More words than this make a query no user types, only a slow one. */
export const MAX_SEARCH_TOKENS = 32;

const Query = z.object({
  ...timeParams,
  service: text(256).optional(),
  severity: z.preprocess((v) => (typeof v === 'string' ? v.toLowerCase() : v), oneOf(SEVERITIES).optional()),
  q: text(1024).optional(),
  traceId: traceIdParam.optional(),
  limit: limitParam,
});

interface LogRow {
  timestampUnixNano: string;
  serviceName: string;
  severityText: string;
  severityNumber: number;
  body: string;
  traceId: string;
  spanId: string;
  attributes: Record<string, string>;
  resourceAttributes: Record<string, string>;
}

function logsSql(filters: string[]): string {
  const extra = filters.length === 0 ? '' : ' AND ' + filters.join(' AND ');
  return `SELECT toString(toUnixTimestamp64Nano(Timestamp)) AS timestampUnixNano, ServiceName AS serviceName,
  SeverityText AS severityText, SeverityNumber AS severityNumber, Body AS body, TraceId AS traceId,
  SpanId AS spanId, LogAttributes AS attributes, ResourceAttributes AS resourceAttributes
FROM ${LOGS_TABLE}
WHERE ${LOGS_IN_RANGE}${extra}
ORDER BY TimestampTime DESC, Timestamp DESC
LIMIT {limit:UInt32}`;
}

export function registerLogsRoute(app: FastifyInstance, store: Store): void {
  app.get('/api/v1/logs', async (request) => {
    const query = parseQuery(Query, request.query);
    const params: QueryParams = { ...rangeParams(tenantOf(request), parseTimeRange(query.from, query.to)), limit: query.limit };
    const filters: string[] = [];
    if (query.service !== undefined) {
      filters.push('ServiceName = {service:String}');
      params.service = query.service;
    }
    if (query.severity !== undefined) {
      const f = severityFilter(query.severity);
      filters.push(SEVERITY_SQL);
      params.sevMin = f.minNumber;
      params.sevTexts = f.texts;
    }
    if (query.traceId !== undefined) {
      filters.push('TraceId = {traceId:String}');
      params.traceId = query.traceId;
    }
    if (query.q !== undefined) {
      const tokens = searchTokens(query.q);
      if (tokens.length === 0) throw badParam('q', 'must contain at least one letter or digit');
      if (tokens.length > MAX_SEARCH_TOKENS) throw badParam('q', `must have at most ${MAX_SEARCH_TOKENS} words`);
      // hasToken on lower(Body) is the expression the tokenbf_v1 index is built on, so it skips granules.
      for (let i = 0; i < tokens.length; i++) {
        filters.push(`hasToken(lower(Body), {w${i}:String})`);
        params[`w${i}`] = tokens[i];
      }
    }
    const logs = await store.query<LogRow>(logsSql(filters), params);
    return { logs };
  });
}
