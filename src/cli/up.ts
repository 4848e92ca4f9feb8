import { loadConfig, type Config } from '../config/index.ts';
import { startEmbeddedStack } from '../stack/index.ts';
import { stopOnSignals } from './signals.ts';

export interface UpOptions {
  config?: string;
  dataDir?: string;
}

export async function runUp(options: UpOptions): Promise<void> {
  const config: Config = loadConfig({ file: options.config, overrides: { dataDir: options.dataDir } });
  const stack = await startEmbeddedStack(config);
  const keyNote = config.apiKey ? 'from configuration' : stack.apiKeyGenerated ? 'generated now, kept in the data folder' : 'kept in the data folder';
  process.stdout.write(
    [
      '',
      'OllyStack is running (embedded: one process, embedded bus, chDB store)',
      `  OTLP/HTTP    ${stack.gatewayUrl}   (POST /v1/traces, /v1/metrics, /v1/logs)`,
      `  OTLP/gRPC    ${stack.gatewayGrpcUrl}   (TraceService, MetricsService, LogsService)`,
      `  API          ${stack.apiUrl}/api/v1   (/services, /traces, /logs, /metrics/query)`,
      `  Self-metrics ${stack.apiUrl}/metrics   health: /healthz, /readyz`,
      `  Data folder  ${stack.dataDir}`,
      `  API key      ${stack.apiKey}   (tenant 'default'; ${keyNote})`,
      '',
      '  Send demo telemetry: npx ollystack demo     Stop: Ctrl-C',
      '',
    ].join('\n') + '\n',
  );

  stopOnSignals(stack.stop, stack.logger);
}
