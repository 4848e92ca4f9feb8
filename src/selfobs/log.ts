/**
 * Logs of OllyStack itself, alone: the entry for the agent, whose bundle must carry neither
 * Fastify nor prom-client (index.ts also exports the HTTP server and the metrics registry,
 * and any import of it bundles them).
 */
export { createLogger, type Logger } from './logger.ts';
