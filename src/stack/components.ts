/**
 * Each component of the architecture as one start function over its dependencies. The
 * embedded stack calls them all in one process; `ollystack gateway|storage|api|...` calls one
 * per process on Kafka, a ClickHouse server and Redis. One code path for both modes.
 */
import type { FastifyInstance } from 'fastify';
import { registerApi } from '../api/index.ts';
import { registerLagMetric, type Bus } from '../bus/index.ts';
import type { Config } from '../config/index.ts';
import { createAdmission, createGrpcReceiver, createHttpReceiver, createInflightBudget, createIngestPipeline } from '../gateway/index.ts';
import { createHttpServer, registerOpsRoutes, type Logger, type Registry } from '../selfobs/index.ts';
import { createMeteringConsumer, ensureUsageTable, METERING_GROUP } from '../metering/index.ts';
import { createStorageConsumer, type Store } from '../storage/index.ts';
import { SIGNALS } from '../telemetry/index.ts';
import type { KeyResolver } from '../tenancy/index.ts';

/** The storage consumer's group on the bus. */
export const STORAGE_GROUP = 'storage';
export { METERING_GROUP };

export interface Running {
  /** Where it listens, when it listens. */
  url?: string;
  /** The gateway's second listener: OTLP/gRPC (url is its OTLP/HTTP). */
  grpcUrl?: string;
  close(): Promise<void>;
}

export interface GatewayDeps {
  config: Config;
  bus: Bus;
  keys: KeyResolver;
  logger: Logger;
  registry: Registry;
}

/**
 * The OTLP receivers, HTTP and gRPC: they authenticate, route by (tenant, service) and answer
 * once the bus acknowledged. Closing stops both from taking data before either finishes.
 */
export async function startGateway(deps: GatewayDeps): Promise<Running> {
  const { config, logger, registry } = deps;
  const { maxRequestBytes, limits } = config.gateway;
  // One ingest path, one rate limiter and one in-flight budget for both transports.
  const admission = await createAdmission({
    limits: config.gateway.rateLimits,
    logger: logger.child({ component: 'admission' }),
    redis: config.redis.url ? { url: config.redis.url, keyPrefix: config.redis.keyPrefix } : undefined,
  });
  const inflight = createInflightBudget(config.gateway.maxInflightBytes);
  const pipeline = createIngestPipeline({ bus: deps.bus, logger, admission, registry, limits });
  const http = createHttpReceiver({
    bus: deps.bus,
    pipeline,
    keys: deps.keys,
    logger,
    registry,
    maxRequestBytes,
    inflight,
    corsAllowedOrigins: config.gateway.corsAllowedOrigins,
  });
  const grpc = createGrpcReceiver({ pipeline, inflight, keys: deps.keys, logger, registry, maxRequestBytes });
  const close = async () => {
    await Promise.all([http.close(), grpc.close()]);
    await admission.close();
  };
  try {
    await http.listen({ host: config.gateway.host, port: config.gateway.httpPort });
    const grpcPort = await grpc.listen({ host: config.gateway.host, port: config.gateway.grpcPort });
    return {
      url: urlOf(http, config.gateway.host),
      grpcUrl: `http://${shownHost(config.gateway.host)}:${grpcPort}`,
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

export interface StorageDeps {
  config: Config;
  bus: Bus;
  store: Store;
  logger: Logger;
  registry: Registry;
}

/** The storage consumer group: micro-batches from the telemetry topics into the store. */
export function startStorage(deps: StorageDeps): Running {
  const consumer = createStorageConsumer({
    bus: deps.bus,
    store: deps.store,
    groupId: STORAGE_GROUP,
    batchMaxRows: deps.config.storage.batchMaxRows,
    batchMaxMs: deps.config.storage.batchMaxMs,
    logger: deps.logger.child({ component: 'storage' }),
    registry: deps.registry,
    checkRetriedWrites: deps.config.store.cluster === undefined,
  });
  consumer.start();
  return { close: () => consumer.stop() };
}

/** Usage metering: counts events and bytes per tenant, signal and hour from the record headers. */
export async function startMetering(deps: StorageDeps): Promise<Running> {
  await ensureUsageTable(deps.store, { cluster: deps.config.store.cluster });
  const consumer = createMeteringConsumer({
    bus: deps.bus,
    store: deps.store,
    logger: deps.logger.child({ component: 'metering' }),
    registry: deps.registry,
    checkRetriedWrites: deps.config.store.cluster === undefined,
  });
  consumer.start();
  return { close: () => consumer.stop() };
}

/** The lag gauge of the groups this process consumes for (one registration per process). */
export function registerGroupLag(deps: { bus: Bus; registry: Registry }, groups: string[]): void {
  registerLagMetric(deps.registry, deps.bus, groups.map((groupId) => ({ groupId, topics: [...SIGNALS] })));
}

export interface ApiDeps {
  config: Config;
  store: Store;
  keys: KeyResolver;
  logger: Logger;
  registry: Registry;
  /** Extra routes on the API server (other components' read endpoints). */
  extend?: (app: FastifyInstance) => Promise<void> | void;
}

/** The query API, with the process's self-metrics and health checks beside it. */
export async function startApi(deps: ApiDeps): Promise<Running> {
  const api: FastifyInstance = createHttpServer(deps.logger, 'api');
  await ensureUsageTable(deps.store, { cluster: deps.config.store.cluster });
  await registerApi(api, { store: deps.store, keys: deps.keys });
  await deps.extend?.(api);
  registerOpsRoutes(api, { registry: deps.registry, ready: () => deps.store.ping() });
  await api.listen({ host: deps.config.api.host, port: deps.config.api.port });
  return { url: urlOf(api, deps.config.api.host), close: () => api.close() };
}

export interface OpsDeps {
  host: string;
  port: number;
  logger: Logger;
  registry: Registry;
  ready: () => Promise<boolean> | boolean;
}

/**
 * Self-metrics and health checks of a process that serves no other HTTP (the storage and
 * metering consumers) or whose port speaks only OTLP (the gateway), for Prometheus and probes.
 */
export async function startOps(deps: OpsDeps): Promise<Running> {
  const app = createHttpServer(deps.logger, 'ops');
  registerOpsRoutes(app, { registry: deps.registry, ready: deps.ready });
  await app.listen({ host: deps.host, port: deps.port });
  return { url: urlOf(app, deps.host), close: () => app.close() };
}

export function urlOf(app: FastifyInstance, host: string): string {
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return `http://${shownHost(host)}:${port}`;
}

/** A wildcard listen address is shown as loopback, where a local client can reach it. */
function shownHost(host: string): string {
  return host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
}

/** Consumer groups that `ollystack replay` can rewind, each with the component that consumes for it. */
export const REPLAYABLE_GROUPS = [STORAGE_GROUP, METERING_GROUP] as const;
export type ReplayableGroup = (typeof REPLAYABLE_GROUPS)[number];

/**
 * Starts the component consuming for `group`. Synchronous for the replay command, which watches
 * the group's progress right away: metering first makes its table, so its consumer starts a
 * moment later; a failure there is logged, and close() throws it.
 */
export async function startGroupConsumer(group: ReplayableGroup, deps: StorageDeps): Promise<Running> {
  switch (group) {
    case STORAGE_GROUP:
      return startStorage(deps);
    case METERING_GROUP:
      return startMetering(deps);
  }
}
