import './threadpool.ts';
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config/index.ts';
import { CliError } from './errors.ts';
import pkg from '../../package.json' with { type: 'json' };

const program = new Command();
program
  .name('ollystack')
  .description('OllyStack: open-source observability. OTLP in, ClickHouse storage, query API.')
  .version(pkg.version)
  .showHelpAfterError()
  .exitOverride();

program
  .command('up')
  .description('run the whole stack in this process (embedded bus and chDB): OTLP/HTTP on :4318, API on :8080')
  .option('-c, --config <file>', 'YAML configuration file (default: $OLLYSTACK_CONFIG, else built-in defaults)')
  .option('-d, --data-dir <dir>', 'data folder (default: $OLLYSTACK_DATA_DIR, else ./data)')
  // Commands load their components only when run, so --help stays instant.
  .action(async (options) => (await import('./up.ts')).runUp(options));

program
  .command('demo')
  .description('send realistic synthetic traces, logs and metrics of a small shop to a running stack')
  .option('-e, --endpoint <url>', 'OTLP/HTTP endpoint of the gateway', 'http://127.0.0.1:4318')
  .option('-k, --api-key <key>', 'API key (default: $OLLYSTACK_API_KEY, else the key a local `up` generated)')
  .option('--duration <seconds>', 'stop after this many seconds (default: run until Ctrl-C)')
  .option('--rate <tracesPerSecond>', 'traces per second', '20')
  .option('-c, --config <file>', 'configuration file, to find the data folder and key')
  .action(async (options) => (await import('./demo.ts')).runDemoCommand(options));

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    process.exit(err.exitCode);
  }
  if (err instanceof ConfigError || err instanceof CliError) {
    process.stderr.write(`ollystack: ${err.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`ollystack: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
}
