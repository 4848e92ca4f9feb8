/**
 * The query API: read-only HTTP endpoints over the store, every one scoped to the tenant of
 * the caller's API key.
 *
 *   GET /api/v1/services          services with request, error and latency figures
 *   GET /api/v1/traces/:traceId   one trace's spans
 *   GET /api/v1/traces            trace search
 *   GET /api/v1/logs              log search
 *   GET /api/v1/metrics/query     time series of a metric
 *   GET /api/v1/usage             metered events and bytes per hour and signal
 */
import type { FastifyError, FastifyInstance } from 'fastify';
import type { Store } from '../storage/index.ts';
import type { KeyResolver } from '../tenancy/index.ts';
import { tenantHook } from './auth.ts';
import { ApiError } from './errors.ts';
import { registerLogsRoute } from './routes/logs.ts';
import { registerMetricsRoute } from './routes/metrics.ts';
import { registerServicesRoute } from './routes/services.ts';
import { registerTraceSearchRoute } from './routes/trace-search.ts';
import { registerTraceRoute } from './routes/trace.ts';
import { registerUsageRoute } from './routes/usage.ts';

export interface ApiDeps {
  store: Store;
  keys: KeyResolver;
  /** Most (series, step) points a metrics query may return (default 200,000). */
  maxMetricPoints?: number;
}

export { ApiError } from './errors.ts';

/**
 * Adds the API routes to `app`, in their own encapsulated scope: the tenant hook and the
 * `{ error }` error handler apply to these routes only, not to the app's other routes.
 */
export async function registerApi(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  await app.register(async (api) => {
    api.addHook('onRequest', tenantHook(deps.keys));
    api.setErrorHandler((error: FastifyError | ApiError, request, reply) => {
      if (error instanceof ApiError) return reply.code(error.statusCode).send({ error: error.message });
      // Fastify's own client errors (e.g. a malformed URL) keep their 4xx status and message.
      if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
        return reply.code(error.statusCode).send({ error: error.message });
      }
      request.log.error({ err: error }, 'query API request failed');
      return reply.code(500).send({ error: 'internal error' });
    });
    registerServicesRoute(api, deps.store);
    registerTraceRoute(api, deps.store);
    registerTraceSearchRoute(api, deps.store);
    registerLogsRoute(api, deps.store);
    registerMetricsRoute(api, deps.store, deps.maxMetricPoints);
    registerUsageRoute(api, deps.store);
  });
}
