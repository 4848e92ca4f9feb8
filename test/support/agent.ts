/** `ollystack agent` as a user runs it (CLI, supervisor, worker), for end-to-end tests. */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';

const BIN = fileURLToPath(new URL('../../bin/ollystack.js', import.meta.url));

export interface AgentProcess {
  child: ChildProcess;
  output(): string;
  /** Sends the signal and waits for the exit. */
  kill(signal: NodeJS.Signals): Promise<number | null>;
}

export function writeAgentConfig(file: string, config: Record<string, unknown>): string {
  writeFileSync(file, stringify(config));
  return file;
}

/**
 * Starts the agent and resolves once it printed that it runs. `entry` is the command's script:
 * bin/ollystack.js (the sources) by default, or a single-file agent built by scripts/build-agent.ts.
 */
export async function startAgentProcess(configFile: string, env: Record<string, string> = {}, entry = BIN, timeoutMs = 60_000): Promise<AgentProcess> {
  const child = spawn(process.execPath, [entry, 'agent', '--config', configFile], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the agent did not start in ${timeoutMs} ms:\n${out}`)), timeoutMs);
    const onData = () => {
      if (!out.includes('OllyStack agent is running')) return;
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      resolve();
    };
    child.stdout!.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`the agent exited with ${code}:\n${out}`));
    });
  });
  return {
    child,
    output: () => out,
    kill: async (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
