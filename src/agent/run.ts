/**
 * The agent as a process runs it: the pipeline plus its local status endpoint, stopped in
 * reverse order.
 */
import type { Config } from '../config/index.ts';
import type { Logger } from '../selfobs/log.ts';
import { startAgent, type AgentStatus } from './agent.ts';
import { startStatusServer, type StatusServer } from './status-server.ts';

export interface AgentProcessOptions {
  config: Config;
  apiKey: string;
  logger: Logger;
  /** The heap limit in force (MB), shown in the status. */
  heapLimitMb: number;
}

export interface RunningAgentProcess {
  status(): AgentStatus & { heapLimitMb: number };
  statusUrl?: string;
  stop(): Promise<void>;
}

export async function runAgentProcess(options: AgentProcessOptions): Promise<RunningAgentProcess> {
  const agent = await startAgent({ config: options.config, apiKey: options.apiKey, logger: options.logger });
  const status = () => ({ ...agent.status(), heapLimitMb: Math.round(options.heapLimitMb) });
  let server: StatusServer | undefined;
  try {
    if (options.config.agent.statusPort > 0) server = await startStatusServer(status, options.config.agent.statusPort);
  } catch (err) {
    await agent.stop();
    throw err;
  }
  return {
    status,
    statusUrl: server?.url,
    async stop() {
      await server?.close();
      await agent.stop();
    },
  };
}
