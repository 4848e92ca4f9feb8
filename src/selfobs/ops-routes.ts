import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';

export interface OpsRoutesOptions {
  registry: Registry;
  /** Resolves true when the process can do its work (its dependencies answer). */
  ready: () => Promise<boolean> | boolean;
}

/** `/metrics` (Prometheus), `/healthz` (the process is alive), `/readyz` (it can serve). */
export function registerOpsRoutes(app: FastifyInstance, options: OpsRoutesOptions): void {
  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', options.registry.contentType);
    return options.registry.metrics();
  });
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const ok = await options.ready();
    reply.code(ok ? 200 : 503);
    return { status: ok ? 'ready' : 'not ready' };
  });
}
