/**
 * Each component of the architecture as one start function over its dependencies. The
 * embedded stack calls them all in one process; `ollystack gateway|storage|api|...` calls one
 * per process on Kafka, a ClickHouse server and Redis. One code path for both modes.
 */
import type { FastifyInstance } from 'fastify';
import { registerApi } from '../api/index.ts';
import { registerLagMetric, type Bus } from '../bus/index.ts';
import type { Config } from '../config/index.ts';
import { createHttpReceiver } from '../gateway/index.ts';
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
  close(): Promise<void>;
}

export interface GatewayDeps {
  config: Config;
  bus: Bus;
  keys: KeyResolver;
  logger: Logger;
  registry: Registry;
}

/** The OTLP/HTTP receiver: authenticates, routes by (tenant, service) and answers once the bus acknowledged. */
export async function startGateway(deps: GatewayDeps): Promise<Running> {
  const { config } = deps;
  const gateway = createHttpReceiver({ bus: deps.bus, keys: deps.keys, logger: deps.logger, registry: deps.registry, maxRequestBytes: config.gateway.maxRequestBytes });
  await gateway.listen({ host: config.gateway.host, port: config.gateway.httpPort });
  return { url: urlOf(gateway, config.gateway.host), close: () => gateway.close() };
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
  });
  consumer.start();
  return { close: () => consumer.stop() };
}

/** Usage metering: counts events and bytes per tenant, signal and hour from the record headers. */
export async function startMetering(deps: StorageDeps): Promise<Running> {
  await ensureUsageTable(deps.store, { cluster: deps.config.store.cluster });
  const consumer = createMeteringConsumer({ bus: deps.bus, store: deps.store, logger: deps.logger.child({ component: 'metering' }), registry: deps.registry });
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
  const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return `http://${shown}:${port}`;
}

/** Consumer groups that `ollystack replay` can rewind, each with the component that consumes for it. */
export const REPLAYABLE_GROUPS = [STORAGE_GROUP] as const;
export type ReplayableGroup = (typeof REPLAYABLE_GROUPS)[number];

export function startGroupConsumer(group: ReplayableGroup, deps: StorageDeps): Running {
  switch (group) {
    case STORAGE_GROUP:
      return startStorage(deps);
  }
}
