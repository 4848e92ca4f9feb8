import { loadConfig, type Config } from '../config/index.ts';
import { startEmbeddedStack } from '../stack/index.ts';

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
      `  API          ${stack.apiUrl}/api/v1   (/services, /traces, /logs, /metrics/query)`,
      `  Self-metrics ${stack.apiUrl}/metrics   health: /healthz, /readyz`,
      `  Data folder  ${stack.dataDir}`,
      `  API key      ${stack.apiKey}   (tenant 'default'; ${keyNote})`,
      '',
      '  Send demo telemetry: npx ollystack demo     Stop: Ctrl-C',
      '',
    ].join('\n') + '\n',
  );

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) {
      stack.logger.warn('second signal: exiting without a clean stop');
      process.exit(1);
    }
    stopping = true;
    stack.logger.info({ signal }, 'stopping');
    stack.stop().then(
      () => {
        stack.logger.info('stopped');
        process.exit(0);
      },
      (err) => {
        stack.logger.error({ err }, 'stop failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}
