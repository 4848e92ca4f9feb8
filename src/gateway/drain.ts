import type { FastifyInstance } from 'fastify';

/**
 * Graceful shutdown: close() stops taking connections (Fastify answers 503 to new requests on
 * open ones) and resolves once the requests in progress have been answered, i.e. their data
 * is on the bus, or after timeoutMs, when the connections still open are cut: a bus that never
 * answers must not hold a shutdown forever. Clients of a cut request did not get a 200 and
 * send again.
 */
export function registerDrain(app: FastifyInstance, timeoutMs: number): void {
  let timer: NodeJS.Timeout | undefined;
  let closing = false;
  // A keep-alive connection would otherwise stay open after its last answer and hold close()
  // until the timeout: the answers of requests in progress close their connections.
  app.addHook('onSend', async (_req, reply, payload) => {
    if (closing) reply.header('connection', 'close');
    return payload;
  });
  app.addHook('preClose', async () => {
    closing = true;
    timer = setTimeout(() => {
      app.log.warn({ timeoutMs }, 'requests still in progress at the drain timeout: closing their connections');
      app.server.closeAllConnections();
    }, timeoutMs);
    timer.unref();
  });
  app.addHook('onClose', async () => {
    clearTimeout(timer);
  });
}
