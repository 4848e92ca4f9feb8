import './process-tuning.ts';
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config/index.ts';
import { CliError } from './errors.ts';
import { registerKeysCommand } from './keys.ts';
import { registerAgentCommand } from './agent.ts';
import type { ComponentName } from '../stack/index.ts';
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

const components: Array<[ComponentName, string, string | null]> = [
  ['gateway', 'run the ingestion gateway: OTLP/gRPC and OTLP/HTTP in, to the bus (Kafka in distributed mode)', '--port <port>'],
  ['storage', 'run a storage consumer: bus to store in micro-batches; any number share the partitions', null],
  ['metering', 'run a usage metering consumer: events and bytes per tenant, signal and hour', null],
  ['api', 'run the query API server', '--port <port>'],
];
for (const [name, description, portFlag] of components) {
  const cmd = program
    .command(name)
    .description(description)
    .option('-c, --config <file>', 'YAML configuration file (default: $OLLYSTACK_CONFIG)')
    .option('-d, --data-dir <dir>', 'data folder (embedded bus, chDB, generated key)')
    .option('--bus <url>', "bus: 'embedded' or kafka://host:port[,host:port...] (config bus.url)")
    .option('--store <url>', 'store: chdb://<folder> or http(s)://user:password@host:8123/database (config store.url)')
    .option('--redis <url>', 'shared state: redis://host:port (config redis.url)');
  if (portFlag) cmd.option(portFlag, `listen port (config ${name === 'gateway' ? 'gateway.httpPort' : 'api.port'})`);
  if (name === 'gateway') cmd.option('--grpc-port <port>', 'OTLP/gRPC listen port (config gateway.grpcPort, default 4317)');
  if (name !== 'api') cmd.option('--ops-port <port>', 'port of /metrics, /healthz and /readyz (config ops.port, default 9464)');
  cmd.action(async (options) => (await import('./component.ts')).runComponentCommand(name, options));
}

program
  .command('replay')
  .description("rewind a stopped consumer group on a topic to a time or offset and consume again (no duplicates in the store)")
  .requiredOption('--topic <topic>', 'traces, logs or metrics')
  .requiredOption('--group <group>', 'consumer group to rewind: storage or metering')
  .option('--from <time>', 'start at the first record at or after this time (ISO 8601, e.g. 2026-11-20T00:00:00Z)')
  .option('--offset <n>', 'start at this offset in every partition (instead of --from)')
  .option('--to <time>', 'stop after this time (default: the end of the topic when the replay starts)')
  .option('--wait <seconds>', "how long to wait for the group's members to leave before giving up", '60')
  .option('-c, --config <file>', 'YAML configuration file (default: $OLLYSTACK_CONFIG)')
  .option('-d, --data-dir <dir>', 'data folder (embedded bus and chDB)')
  .option('--bus <url>', "bus: 'embedded' or kafka://host:port[,...]")
  .option('--store <url>', 'store URL')
  .action(async (options) => (await import('./replay.ts')).runReplayCommand(options));

program
  .command('demo')
  .description('send realistic synthetic traces, logs and metrics of a small shop to a running stack')
  .option('-e, --endpoint <url>', 'OTLP/HTTP endpoint of the gateway', 'http://127.0.0.1:4318')
  .option('-k, --api-key <key>', 'API key (default: $OLLYSTACK_API_KEY, else the key a local `up` generated)')
  .option('--duration <seconds>', 'stop after this many seconds (default: run until Ctrl-C)')
  .option('--rate <tracesPerSecond>', 'traces per second', '20')
  .option('--metrics-interval <seconds>', 'how often the services export their metrics, in seconds (default 2: often, like statsd clients, so an agent in between has its 60 s window to aggregate)')
  .option('-c, --config <file>', 'configuration file, to find the data folder and key')
  .action(async (options) => (await import('./demo.ts')).runDemoCommand(options));

registerKeysCommand(program);
registerAgentCommand(program);

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
