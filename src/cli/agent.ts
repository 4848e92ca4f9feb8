/** `ollystack agent` (run the host agent) and `ollystack agent status`. */
import type { Command } from 'commander';
import { loadConfig } from '../config/index.ts';
import type { AgentStatus } from '../agent/index.ts';
import { CliError } from './errors.ts';

interface RunOptions {
  config?: string;
  dataDir?: string;
  endpoint?: string;
  logFile?: string[];
  statusPort?: string;
}

interface StatusOptions {
  config?: string;
  port?: string;
  json?: boolean;
}

export function registerAgentCommand(program: Command): void {
  const agent = program
    .command('agent')
    .description('run the host agent: host metrics, log files and local OTLP in; aggregated, sampled and buffered OTLP out to the gateway')
    .option('-c, --config <file>', 'YAML configuration file, agent section (default: $OLLYSTACK_CONFIG)')
    .option('-d, --data-dir <dir>', "data folder; the agent keeps its buffer in <dir>/agent (config agent.dataDir)")
    .option('-e, --endpoint <url>', 'gateway OTLP/HTTP base URL (config agent.endpoint, default http://127.0.0.1:4318)')
    .option('-l, --log-file <glob...>', 'log files to tail, e.g. "/var/log/app/*.log" (config agent.logs.include)')
    .option('--status-port <port>', 'local status port for `agent status` (config agent.statusPort, default 13133)')
    .addHelpText('after', '\nThe API key comes from the configuration (apiKey) or $OLLYSTACK_API_KEY.')
    .action(async (options: RunOptions) => runAgent(options));
  agent
    .command('status')
    .description('show what the running agent collects, sends, buffers and drops')
    .option('-c, --config <file>', 'configuration file, to find agent.statusPort')
    .option('-p, --port <port>', 'status port of the agent (default: agent.statusPort, 13133)')
    .option('--json', 'print the raw status as JSON')
    .action(async (options: StatusOptions) => runStatus(options));
}

function portOption(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new CliError(`${name}: expected a port number (0 to 65535), got '${raw}'`);
  return n;
}

async function runAgent(options: RunOptions): Promise<void> {
  const overrides: Record<string, unknown> = {};
  if (options.dataDir) overrides.dataDir = options.dataDir;
  if (options.endpoint) overrides['agent.endpoint'] = options.endpoint;
  if (options.logFile) overrides['agent.logs.include'] = options.logFile;
  const statusPort = portOption('--status-port', options.statusPort);
  if (statusPort !== undefined) overrides['agent.statusPort'] = statusPort;
  // Validated here, before the worker starts, so a mistake is reported with its key and exit code 2.
  const config = loadConfig({ file: options.config, overrides });
  if (!config.apiKey) throw new CliError('apiKey: the agent needs an API key to send with: set apiKey in the configuration file or OLLYSTACK_API_KEY');
  const say = (line: string) => process.stderr.write(`ollystack agent: ${line}\n`);
  // Loaded only when run, so `ollystack --help` stays instant.
  const { ensureHeapLimit, runAgentProcess } = await import('../agent/index.ts');
  // Re-executes this process under the heap limit (same PID) unless it already runs under it.
  const heap = ensureHeapLimit(config.agent.maxHeapMb);
  if (!heap.applied) say(`cannot set the heap limit on this platform; running under V8's default (${heap.limitMb.toFixed(0)} MB)`);
  const { createLogger } = await import('../selfobs/log.ts');
  const logger = createLogger(config.log.level).child({ component: 'agent' });
  const agent = await runAgentProcess({ config, apiKey: config.apiKey, logger, heapLimitMb: heap.limitMb }).catch((err: Error) => {
    // A port taken or a folder not writable: the message names the key to change.
    throw err.name === 'AgentStartError' ? new CliError(err.message) : err;
  });
  const s = agent.status();
  process.stdout.write(
    [
      '',
      `OllyStack agent is running (pid ${process.pid}, heap limit ${config.agent.maxHeapMb} MB)`,
      `  Sending to   ${s.endpoint}`,
      `  Local OTLP   ${[s.otlp.http && `HTTP ${s.otlp.http}`, s.otlp.grpc && `gRPC ${s.otlp.grpc}`].filter(Boolean).join('   ') || 'off'}`,
      `  Log files    ${s.logFiles.length ? s.logFiles.join(', ') : 'none (agent.logs.include)'}`,
      `  Buffer       ${s.dataDir}`,
      `  Status       ${agent.statusUrl ? `${agent.statusUrl}/status   (ollystack agent status)` : 'off'}`,
      '',
    ].join('\n') + '\n',
  );
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) process.exit(1);
    stopping = true;
    say(`${signal}: stopping (what is held goes to the disk buffer)`);
    agent.stop().then(
      () => process.exit(0),
      (err: Error) => {
        say(`stop failed: ${err.message}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

async function runStatus(options: StatusOptions): Promise<void> {
  const port = portOption('--port', options.port) ?? loadConfig({ file: options.config }).agent.statusPort;
  if (port === 0) throw new CliError('agent.statusPort is 0 (status turned off); pass --port');
  const { fetchAgentStatus } = await import('../agent/index.ts');
  let status: AgentStatus & { heapLimitMb?: number };
  try {
    status = (await fetchAgentStatus(port)) as AgentStatus & { heapLimitMb?: number };
  } catch (err) {
    throw new CliError((err as Error).message);
  }
  if (options.json) {
    process.stdout.write(JSON.stringify(status, null, 2) + '\n');
    return;
  }
  process.stdout.write(formatStatus(status) + '\n');
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
const n = (v: number | undefined) => (v ?? 0).toLocaleString('en-US');

/** The status a person reads: what is collected, sent, buffered and dropped, then every counter. */
export function formatStatus(s: AgentStatus & { heapLimitMb?: number }): string {
  const c = s.components;
  const ex = c.exporter ?? {};
  const agg = c.aggregate ?? {};
  const smp = c.sampler ?? {};
  const lines = [
    `OllyStack agent, up since ${s.startedAt}`,
    `  Sending to   ${s.endpoint}   gateway ${ex.gatewayUp ? 'reachable' : 'NOT reachable (buffering to disk)'}`,
    `  Memory       RSS ${mb(s.memory.rssBytes)}, heap ${mb(s.memory.heapUsedBytes)} used of ${mb(s.memory.heapTotalBytes ?? 0)} (limit ${s.heapLimitMb ?? '?'} MB), outside the heap ${mb(s.memory.externalBytes ?? 0)}`,
    `  Collects     ${[c.hostmetrics && 'host metrics', c.filelog && `log files (${n(c.filelog.filesTracked)} tracked, ${n(c.filelog.linesRead)} lines)`, c.otlp && `local OTLP (${[s.otlp.http, s.otlp.grpc].filter(Boolean).join(', ')})`].filter(Boolean).join('; ')}`,
    `  Sent         ${n(ex.sentItems)} items in ${n(ex.sentBatches)} requests`,
    `  Buffered     ${n(ex.bufferedBatches)} batches, ${mb(ex.bufferedBytes ?? 0)} on disk`,
    `  Dropped      ${n(ex.droppedItems)} items (${n(ex.droppedBatches)} batches) to the buffer cap; ${n(ex.rejectedItems)} refused by the gateway`,
    `  Metrics      ${n(agg.pointsIn)} points in, ${n(agg.pointsOut)} out${agg.pointsIn ? ` (${(100 * (1 - (agg.pointsOut ?? 0) / agg.pointsIn)).toFixed(1)} % fewer)` : ''}; ${n(agg.pointsFolded)} folded by cardinality limits`,
    `  Traces       ${n(smp.tracesKept)} of ${n(smp.tracesIn)} kept (${n(smp.keptError)} with errors, ${n(smp.keptSlow)} slow); sampling probability now ${smp.probability ?? 1}`,
    '',
    '  Counters',
  ];
  for (const [name, stats] of Object.entries(c)) {
    lines.push(`    ${name.padEnd(12)} ${Object.entries(stats).map(([k, v]) => `${k}=${Number.isInteger(v) ? v : v.toFixed(3)}`).join(' ')}`);
  }
  return lines.join('\n');
}
