import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Config } from '../config/index.ts';
import { createLogger, createRegistry, type Logger } from '../selfobs/index.ts';
import { openBus, openStore, storeUrl } from './backends.ts';
import { METERING_GROUP, STORAGE_GROUP, registerGroupLag, startApi, startGateway, startMetering, startStorage, type Running } from './components.ts';
import { openKeys } from './keys.ts';
import { createLifecycle } from './lifecycle.ts';

export interface RunningStack {
  dataDir: string;
  apiKey: string;
  apiKeyGenerated: boolean;
  gatewayUrl: string;
  /** The OTLP/gRPC receiver, as OTLP/gRPC exporters take it: http://host:port. */
  gatewayGrpcUrl: string;
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
 * ClickHouse server, in-process state in place of Redis. The same start functions run one
 * component per process in distributed mode (process.ts).
 */
export async function startEmbeddedStack(config: Config, options: StartOptions = {}): Promise<RunningStack> {
  const logger = options.logger ?? createLogger(config.log.level);
  const dataDir = resolve(config.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const registry = createRegistry();

  const lifecycle = createLifecycle(logger);
  const stop = lifecycle.stop;
  const started = (running: Running) => {
    lifecycle.onStop(() => running.close());
    return running;
  };

  try {
    const keys = await openKeys(config, logger);
    lifecycle.onStop(() => keys.close());
    const bus = await openBus(config, logger, 'ollystack');
    lifecycle.onStop(() => bus.close());
    const store = await openStore(config, logger);
    lifecycle.onStop(() => store.close());

    const deps = { config, bus, store, keys: keys.resolver, logger, registry };
    started(startStorage(deps));
    started(await startMetering(deps));
    registerGroupLag(deps, [STORAGE_GROUP, METERING_GROUP]);
    // Stop taking data first (last started, first stopped), so nothing is accepted that the bus will not see.
    const gateway = started(await startGateway(deps));
    const api = started(await startApi(deps));

    return {
      dataDir,
      apiKey: keys.defaultKey.key,
      apiKeyGenerated: keys.defaultKey.generated,
      gatewayUrl: gateway.url!,
      gatewayGrpcUrl: gateway.grpcUrl!,
      apiUrl: api.url!,
      storeUrl: storeUrl(config),
      logger,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
