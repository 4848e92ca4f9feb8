import { loadConfig } from '../config/index.ts';
import { startComponent, type ComponentName } from '../stack/index.ts';
import { CliError } from './errors.ts';
import { stopOnSignals } from './signals.ts';

export interface ComponentCliOptions {
  config?: string;
  dataDir?: string;
  bus?: string;
  store?: string;
  redis?: string;
  opsPort?: string;
  port?: string;
  grpcPort?: string;
}

function portOption(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new CliError(`--${name}: expected a port number (0-65535), got '${raw}'`);
  return n;
}

/** `ollystack gateway|storage|api`: one component in this process, on the configured engines. */
export async function runComponentCommand(component: ComponentName, options: ComponentCliOptions): Promise<void> {
  const port = portOption('port', options.port);
  const config = loadConfig({
    file: options.config,
    overrides: {
      dataDir: options.dataDir,
      'bus.url': options.bus,
      'store.url': options.store,
      'redis.url': options.redis,
      'ops.port': portOption('ops-port', options.opsPort),
      'gateway.httpPort': component === 'gateway' ? port : undefined,
      'gateway.grpcPort': component === 'gateway' ? portOption('grpc-port', options.grpcPort) : undefined,
      'api.port': component === 'api' ? port : undefined,
    },
  });
  const running = await startComponent(component, config);
  const where = Object.entries(running.endpoints)
    .map(([name, url]) => `${name} ${url}`)
    .join(', ');
  running.logger.info({ bus: config.bus.url, store: config.store.url ?? 'chdb (data folder)', endpoints: running.endpoints }, `${component} running${where ? `: ${where}` : ''}`);
  stopOnSignals(running.stop, running.logger);
}
