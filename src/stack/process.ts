/**
 * One component per process, for the distributed mode: `ollystack gateway`, `storage`,
 * `metering`, `api`.
 * The process opens only the engines its component needs, serves its self-metrics, and stops
 * in reverse order of start.
 */
import type { Config } from '../config/index.ts';
import { createLogger, createRegistry, type Logger } from '../selfobs/index.ts';
import { openBus, openStore } from './backends.ts';
import { METERING_GROUP, STORAGE_GROUP, registerGroupLag, startApi, startGateway, startMetering, startOps, startStorage, type Running } from './components.ts';
import { openKeys } from './keys.ts';
import { createLifecycle } from './lifecycle.ts';

export const COMPONENTS = ['gateway', 'storage', 'metering', 'api'] as const;
export type ComponentName = (typeof COMPONENTS)[number];

export interface RunningProcess {
  component: ComponentName;
  logger: Logger;
  /** What the process serves, for the start banner: name → URL. */
  endpoints: Record<string, string>;
  stop(): Promise<void>;
}

export async function startComponent(component: ComponentName, config: Config, options: { logger?: Logger } = {}): Promise<RunningProcess> {
  const logger = options.logger ?? createLogger(config.log.level).child({ component });
  const registry = createRegistry();
  const lifecycle = createLifecycle(logger);
  const stop = lifecycle.stop;
  const endpoints: Record<string, string> = {};
  const started = (name: string, running: Running) => {
    lifecycle.onStop(() => running.close());
    if (running.url) endpoints[name] = running.url;
    if (running.grpcUrl) endpoints['otlp-grpc'] = running.grpcUrl;
  };

  try {
    if (component === 'gateway') {
      const keys = await openKeys(config, logger);
      lifecycle.onStop(() => keys.close());
      const bus = await openBus(config, logger, 'ollystack-gateway');
      lifecycle.onStop(() => bus.close());
      // Ready once the bus took the topics; after that the gateway answers 503 while the bus is down.
      started('ops', await startOps({ host: config.ops.host, port: config.ops.port, logger, registry, ready: () => true }));
      started('otlp-http', await startGateway({ config, bus, keys: keys.resolver, logger, registry }));
    } else if (component === 'storage' || component === 'metering') {
      const store = await openStore(config, logger);
      lifecycle.onStop(() => store.close());
      const bus = await openBus(config, logger, `ollystack-${component}`);
      lifecycle.onStop(() => bus.close());
      started('ops', await startOps({ host: config.ops.host, port: config.ops.port, logger, registry, ready: () => store.ping() }));
      const deps = { config, bus, store, logger, registry };
      started(component, component === 'storage' ? startStorage(deps) : await startMetering(deps));
      registerGroupLag(deps, [component === 'storage' ? STORAGE_GROUP : METERING_GROUP]);
    } else {
      const keys = await openKeys(config, logger);
      lifecycle.onStop(() => keys.close());
      const store = await openStore(config, logger);
      lifecycle.onStop(() => store.close());
      started('api', await startApi({ config, store, keys: keys.resolver, logger, registry }));
    }
    return { component, logger, endpoints, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
