import type { QueryParams, Store } from '../../storage/index.ts';
import { METRIC_TABLES } from '../../storage/index.ts';
import { METRICS_IN_RANGE } from '../sql.ts';

export type MetricKind = keyof typeof METRIC_TABLES;

export interface MetricInfo {
  kind: MetricKind;
  /** Sums only: whether the sum only goes up (a counter), so a rate makes sense. */
  monotonic: boolean;
}

const WHERE = `${METRICS_IN_RANGE} AND MetricName = {name:String}`;

// One probe per table, each stopping at its first row; the same name in two tables (rare,
// a renamed instrument) resolves to the first kind in this order.
const KIND_SQL = `SELECT kind, monotonic FROM (
  (SELECT 'gauge' AS kind, 0 AS rank, false AS monotonic FROM ${METRIC_TABLES.gauge} WHERE ${WHERE} LIMIT 1)
  UNION ALL (SELECT 'sum', 1, IsMonotonic FROM ${METRIC_TABLES.sum} WHERE ${WHERE} ORDER BY IsMonotonic DESC LIMIT 1)
  UNION ALL (SELECT 'histogram', 2, false FROM ${METRIC_TABLES.histogram} WHERE ${WHERE} LIMIT 1)
  UNION ALL (SELECT 'exponentialHistogram', 3, false FROM ${METRIC_TABLES.exponentialHistogram} WHERE ${WHERE} LIMIT 1)
  UNION ALL (SELECT 'summary', 4, false FROM ${METRIC_TABLES.summary} WHERE ${WHERE} LIMIT 1)
) ORDER BY rank LIMIT 1`;

/** The kind of a metric of the tenant in the range, or null when it has no points there. */
export async function findMetric(store: Store, params: QueryParams): Promise<MetricInfo | null> {
  const rows = await store.query<{ kind: MetricKind; monotonic: boolean | number }>(KIND_SQL, params);
  if (rows.length === 0) return null;
  return { kind: rows[0].kind, monotonic: rows[0].monotonic === true || rows[0].monotonic === 1 };
}
