import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';

export interface HttpServerOptions {
  /** Largest request body, in bytes. */
  bodyLimit?: number;
}

/**
 * A Fastify instance logging through the process's pino logger, with per-request lines off:
 * at telemetry rates they would be most of the output. Errors are still logged.
 */
export function createHttpServer(logger: Logger, component: string, options: HttpServerOptions = {}): FastifyInstance {
  return Fastify({
    loggerInstance: logger.child({ component }) as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.bodyLimit,
    keepAliveTimeout: 65_000,
    // A client that sends part of a request and stalls would hold its connection and buffers
    // forever (Fastify's default is no limit): 30 s is far beyond any healthy export.
    requestTimeout: 30_000,
  });
}
