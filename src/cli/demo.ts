import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadConfig } from '../config/index.ts';
import { DEFAULT_METRICS_INTERVAL_MS, runDemo } from '../demo/index.ts';
import { CliError } from './errors.ts';

export interface DemoCliOptions {
  endpoint: string;
  apiKey?: string;
  duration?: string;
  rate: string;
  metricsInterval?: string;
  config?: string;
}

function positive(name: string, raw: string): number {
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new CliError(`--${name}: expected a positive number, got '${raw}'`);
  return n;
}

/** The key given, else OLLYSTACK_API_KEY, else the one a local `ollystack up` generated. */
function resolveApiKey(options: DemoCliOptions): string {
  if (options.apiKey) return options.apiKey;
  const config = loadConfig({ file: options.config });
  if (config.apiKey) return config.apiKey;
  try {
    return readFileSync(join(resolve(config.dataDir), 'default-api-key'), 'utf8').trim();
  } catch {
    throw new CliError('--api-key: no key given, OLLYSTACK_API_KEY is unset and no generated key was found in the data folder');
  }
}

export async function runDemoCommand(options: DemoCliOptions): Promise<void> {
  const apiKey = resolveApiKey(options);
  const durationSec = options.duration === undefined ? undefined : positive('duration', options.duration);
  const rate = positive('rate', options.rate);
  const metricsIntervalMs = options.metricsInterval === undefined ? DEFAULT_METRICS_INTERVAL_MS : positive('metrics-interval', options.metricsInterval) * 1000;
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  process.once('SIGTERM', () => controller.abort());
  process.stdout.write(`Sending demo telemetry to ${options.endpoint} at ${rate} traces/s${durationSec ? ` for ${durationSec} s` : ' until Ctrl-C'}\n`);
  const totals = await runDemo({
    endpoint: options.endpoint,
    apiKey,
    durationSec,
    rate,
    metricsIntervalMs,
    signal: controller.signal,
    log: (line: string) => process.stdout.write(line + '\n'),
  });
  process.stdout.write(`Done: ${totals.requests} requests, ${totals.spans} spans, ${totals.logs} log records, ${totals.dataPoints} data points, ${totals.errors} failed requests\n`);
  if (totals.errors > 0 && totals.requests === totals.errors) process.exitCode = 1;
}
