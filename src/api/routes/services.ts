import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { tenantOf } from '../auth.ts';
import { parseQuery, timeParams } from '../params.ts';
import { ENTRY_SPAN, LOGS_IN_RANGE, METRICS_IN_RANGE, TRACES_IN_RANGE, rangeParams, toNumber } from '../sql.ts';
import { parseTimeRange } from '../time.ts';
import type { Store } from '../../storage/index.ts';
import { LOGS_TABLE, METRIC_TABLES, TRACES_TABLE } from '../../storage/index.ts';

const Query = z.object({ ...timeParams });

const ENTRY_FIGURES_SQL = `SELECT ServiceName AS name, count() AS requests, countIf(StatusCode = 'Error') AS errors,
  quantiles(0.5, 0.95, 0.99)(Duration) AS q
FROM ${TRACES_TABLE}
WHERE ${TRACES_IN_RANGE} AND ${ENTRY_SPAN}
GROUP BY ServiceName`;

// Services known only from client spans, logs or metrics are listed too, with zero figures.
const SEEN_SQL = `SELECT DISTINCT name FROM (
  SELECT DISTINCT ServiceName AS name FROM ${TRACES_TABLE} WHERE ${TRACES_IN_RANGE}
  UNION ALL SELECT DISTINCT ServiceName AS name FROM ${LOGS_TABLE} WHERE ${LOGS_IN_RANGE}
  ${Object.values(METRIC_TABLES)
    .map((table) => `UNION ALL SELECT DISTINCT ServiceName AS name FROM ${table} WHERE ${METRICS_IN_RANGE}`)
    .join('\n  ')}
)`;

interface FiguresRow {
  name: string;
  requests: string | number;
  errors: string | number;
  q: number[];
}

export interface ServiceSummary {
  name: string;
  requests: number;
  errors: number;
  errorRate: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
}

const NS_PER_MS = 1e6;

export function registerServicesRoute(app: FastifyInstance, store: Store): void {
  app.get('/api/v1/services', async (request) => {
    const query = parseQuery(Query, request.query);
    const params = rangeParams(tenantOf(request), parseTimeRange(query.from, query.to));
    const [figures, seen] = await Promise.all([
      store.query<FiguresRow>(ENTRY_FIGURES_SQL, params),
      store.query<{ name: string }>(SEEN_SQL, params),
    ]);
    const byName = new Map<string, ServiceSummary>();
    for (const { name } of seen) {
      byName.set(name, { name, requests: 0, errors: 0, errorRate: 0, p50Ms: 0, p95Ms: 0, p99Ms: 0 });
    }
    for (const row of figures) {
      const requests = toNumber(row.requests);
      const errors = toNumber(row.errors);
      byName.set(row.name, {
        name: row.name,
        requests,
        errors,
        errorRate: requests === 0 ? 0 : errors / requests,
        p50Ms: row.q[0] / NS_PER_MS,
        p95Ms: row.q[1] / NS_PER_MS,
        p99Ms: row.q[2] / NS_PER_MS,
      });
    }
    const services = [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return { services };
  });
}
