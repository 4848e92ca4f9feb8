export { createLogger, type Logger } from './log.ts';
export { createRegistry, Registry } from './metrics.ts';
export { registerOpsRoutes, type OpsRoutesOptions } from './ops-routes.ts';
export { createHttpServer, type HttpServerOptions } from './http-server.ts';
