/**
 * Runs the chDB test server (chdb-http-server.main.ts) as a child process, for tests that need
 * the store to go away and come back: kill it (-9 or TERM) and start it again on the same
 * folder and port.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('./chdb-http-server.main.ts', import.meta.url));

/** How long a start may take before it counts as failed (chDB opening a data folder takes a second or two). */
const START_TIMEOUT_MS = 60_000;

export interface ChdbHttpServerProcessOptions {
  dir: string;
  /** 0 (the default) picks a free port; pass the previous port to come back on it. */
  port?: number;
  user?: string;
  password?: string;
}

export interface ChdbHttpServerProcess {
  readonly port: number;
  readonly url: string;
  readonly pid: number;
  /** Sends the signal and waits for the process to exit (SIGKILL: a crash; SIGTERM: a clean stop). */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

function waitForExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

export async function spawnChdbHttpServer(options: ChdbHttpServerProcessOptions): Promise<ChdbHttpServerProcess> {
  const args = [MAIN, '--dir', options.dir, '--port', String(options.port ?? 0)];
  if (options.user !== undefined) args.push('--user', options.user, '--password', options.password ?? '');
  // process.execPath: the Node that runs the tests (the project's Node 24), which runs .ts directly.
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`chDB test server did not start within ${START_TIMEOUT_MS} ms: ${stderr}`));
    }, START_TIMEOUT_MS);
    child.stdout?.on('data', (d: Buffer) => {
      stdout += d.toString();
      const line = /^listening (\d+)$/m.exec(stdout);
      if (line) {
        clearTimeout(timer);
        resolve(Number(line[1]));
      }
    });
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`chDB test server exited with ${code ?? signal} before listening: ${stderr}`));
    });
  });
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    pid: child.pid ?? -1,
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      const exited = waitForExit(child);
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}
