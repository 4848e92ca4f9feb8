import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { registerApi } from '../api/index.ts';
import { createEmbeddedBus, defaultTopicSpecs, registerLagMetric, type Bus } from '../bus/index.ts';
import type { Config } from '../config/index.ts';
import { createHttpReceiver } from '../gateway/index.ts';
import { createHttpServer, createLogger, createRegistry, registerOpsRoutes, type Logger } from '../selfobs/index.ts';
import { createStorageConsumer, createStore, migrate, type Store } from '../storage/index.ts';
import { SIGNALS } from '../telemetry/index.ts';
import { DEFAULT_TENANT, StaticKeyResolver, defaultApiKey } from '../tenancy/index.ts';

/** The storage consumer's group on the bus (its default). */
const STORAGE_GROUP = 'storage';

export interface RunningStack {
  dataDir: string;
  apiKey: string;
  apiKeyGenerated: boolean;
  gatewayUrl: string;
  apiUrl: string;
  storeUrl: string;
  logger: Logger;
  stop(): Promise<void>;
}

export interface StartOptions {
  logger?: Logger;
}

/**
 * Every component in one process: the embedded bus in place of Kafka, chDB in place of a
 * ClickHouse server, in-process state in place of Redis. The same components run as separate
 * processes on the real engines in distributed mode.
 */
export async function startEmbeddedStack(config: Config, options: StartOptions = {}): Promise<RunningStack> {
  const logger = options.logger ?? createLogger(config.log.level);
  const dataDir = resolve(config.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const registry = createRegistry();

  const keys = new StaticKeyResolver();
  const { key: apiKey, generated } = defaultApiKey(dataDir, config.apiKey);
  keys.add(apiKey, DEFAULT_TENANT);
  for (const tenant of config.tenants) for (const k of tenant.apiKeys) keys.add(k, tenant.id);

  const cleanups: Array<() => Promise<void>> = [];
  const stop = async () => {
    // Last started, first stopped: the receivers close before what they feed.
    for (let fn = cleanups.pop(); fn; fn = cleanups.pop()) {
      try {
        await fn();
      } catch (err) {
        logger.warn({ err }, 'error while stopping');
      }
    }
  };

  try {
    const bus: Bus = await createEmbeddedBus({ dir: join(dataDir, 'bus'), defaultPartitions: config.bus.partitions, logger: logger.child({ component: 'bus' }) });
    cleanups.push(() => bus.close());
    await bus.ensureTopics(defaultTopicSpecs(config.bus.partitions));

    const storeUrl = config.store.url ?? `chdb://${join(dataDir, 'chdb')}`;
    const store: Store = await createStore({ url: storeUrl });
    cleanups.push(() => store.close());
    await migrate(store, config.store.retentionDays, logger.child({ component: 'migrate' }));

    const consumer = createStorageConsumer({
      bus,
      store,
      groupId: STORAGE_GROUP,
      batchMaxRows: config.storage.batchMaxRows,
      batchMaxMs: config.storage.batchMaxMs,
      logger: logger.child({ component: 'storage' }),
      registry,
    });
    consumer.start();
    cleanups.push(() => consumer.stop());
    registerLagMetric(registry, bus, [{ groupId: STORAGE_GROUP, topics: [...SIGNALS] }]);

    const gateway = createHttpReceiver({ bus, keys, logger, registry, maxRequestBytes: config.gateway.maxRequestBytes });
    await gateway.listen({ host: config.gateway.host, port: config.gateway.httpPort });
    // Stop taking data first, so nothing is accepted that the bus will not see.
    cleanups.push(() => gateway.close());

    const api: FastifyInstance = createHttpServer(logger, 'api');
    await registerApi(api, { store, keys });
    registerOpsRoutes(api, { registry, ready: () => store.ping() });
    await api.listen({ host: config.api.host, port: config.api.port });
    cleanups.push(() => api.close());

    return {
      dataDir,
      apiKey,
      apiKeyGenerated: generated,
      gatewayUrl: urlOf(gateway, config.gateway.host),
      apiUrl: urlOf(api, config.api.host),
      storeUrl,
      logger,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

function urlOf(app: FastifyInstance, host: string): string {
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return `http://${shown}:${port}`;
}
