/**
 * The distributed mode as an operator runs it, for end-to-end tests: a private Kafka broker
 * (the project's jars, its own folder and port, so a test may stop it), a ClickHouse HTTP
 * endpoint on chDB in its own process (so a test may take the store away), and each
 * OllyStack component as its own `ollystack <component>` process.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnChdbHttpServer, type ChdbHttpServerProcess } from './chdb-http-server-process.ts';

const SERVICES = fileURLToPath(new URL('../../scripts/services', import.meta.url));
const BIN = fileURLToPath(new URL('../../bin/ollystack.js', import.meta.url));

/** A port free now, whose next port is free too (Kafka's controller takes port + 1). */
export async function freePortPair(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 20000);
    if ((await portFree(port)) && (await portFree(port + 1))) return port;
  }
  throw new Error('no free port pair found');
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

export interface PrivateKafka {
  url: string;
  port: number;
  start(): void;
  stop(): void;
  remove(): void;
}

/** A single-node KRaft broker of its own; `stop` and `start` keep its data (same folder, same port). */
export async function startPrivateKafka(): Promise<PrivateKafka> {
  const dir = mkdtempSync(join(tmpdir(), 'olly-kafka-'));
  const port = await freePortPair();
  const start = () => {
    try {
      execFileSync('bash', [SERVICES, 'kafka-start', dir, String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (err) {
      throw new Error(`could not start a private Kafka broker (run scripts/services up once to fetch the jars): ${(err as { stderr?: Buffer }).stderr?.toString() ?? err}`);
    }
  };
  start();
  return {
    url: `kafka://127.0.0.1:${port}`,
    port,
    start,
    stop: () => execFileSync('bash', [SERVICES, 'kafka-stop', dir], { stdio: 'ignore' }),
    remove: () => {
      execFileSync('bash', [SERVICES, 'kafka-stop', dir], { stdio: 'ignore' });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface ClickHouseEndpoint {
  url: string;
  /** kill -9: the store is gone until `restart`. */
  kill(): Promise<void>;
  restart(): Promise<void>;
  remove(): Promise<void>;
}

export async function startClickHouseEndpoint(): Promise<ClickHouseEndpoint> {
  const dir = mkdtempSync(join(tmpdir(), 'olly-chdb-http-'));
  let server: ChdbHttpServerProcess | null = await spawnChdbHttpServer({ dir });
  const port = server.port;
  return {
    url: `http://default:@127.0.0.1:${port}/default`,
    kill: async () => {
      await server?.kill('SIGKILL');
      server = null;
    },
    restart: async () => {
      server = await spawnChdbHttpServer({ dir, port });
    },
    remove: async () => {
      await server?.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface ComponentProcess {
  child: ChildProcess;
  endpoints: Record<string, string>;
  output(): string;
  /** Sends the signal and waits for the exit. */
  kill(signal: NodeJS.Signals): Promise<number | null>;
}

/**
 * `ollystack <args>` with the environment given; resolves once the component logged that it
 * runs (its endpoints come from that line).
 */
export async function startComponent(args: string[], env: Record<string, string>, timeoutMs = 60_000): Promise<ComponentProcess> {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, OLLYSTACK_LOG__LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const endpoints = await new Promise<Record<string, string>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`ollystack ${args.join(' ')} did not start in ${timeoutMs} ms:\n${out}`)), timeoutMs);
    const onData = () => {
      for (const line of out.split('\n')) {
        if (!line.includes(' running')) continue;
        try {
          const entry = JSON.parse(line) as { msg?: string; endpoints?: Record<string, string> };
          if (entry.msg?.includes(' running') && entry.endpoints) {
            clearTimeout(timer);
            child.stdout!.off('data', onData);
            resolve(entry.endpoints);
            return;
          }
        } catch {
          // not a log line
        }
      }
    };
    child.stdout!.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`ollystack ${args.join(' ')} exited with ${code}:\n${out}`));
    });
  });
  return {
    child,
    endpoints,
    output: () => out,
    kill: async (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
