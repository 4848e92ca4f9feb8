import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { configSchema, type Config } from '../src/config/index.ts';
import { createLogger } from '../src/selfobs/index.ts';
import { startEmbeddedStack, type RunningStack } from '../src/stack/index.ts';

export interface TestStack {
  stack: RunningStack;
  dir: string;
  gateway: string;
  /** The OTLP/gRPC receiver, http://127.0.0.1:port. */
  grpc: string;
  api: string;
  key: string;
  stop(): Promise<void>;
}

/** The embedded stack in this process on free loopback ports and a temp data folder. */
export async function startTestStack(extra: Partial<Record<string, unknown>> = {}): Promise<TestStack> {
  const dir = mkdtempSync(join(tmpdir(), 'olly-test-'));
  const config: Config = configSchema.parse({
    dataDir: dir,
    apiKey: 'test-default-key-0000',
    gateway: { host: '127.0.0.1', httpPort: 0, grpcPort: 0 },
    api: { host: '127.0.0.1', port: 0 },
    storage: { batchMaxMs: 100 },
    log: { level: 'warn' },
    ...extra,
  });
  const quiet = new Writable({ write: (_c, _e, cb) => cb() });
  const stack = await startEmbeddedStack(config, { logger: createLogger('warn', process.env.OLLY_TEST_LOGS ? process.stderr : quiet) });
  return {
    stack,
    dir,
    gateway: stack.gatewayUrl,
    grpc: stack.gatewayGrpcUrl,
    api: stack.apiUrl,
    key: stack.apiKey,
    async stop() {
      await stack.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function apiGet<T = any>(base: string, path: string, key: string): Promise<{ status: number; body: T }> {
  const res = await fetch(base + path, { headers: { authorization: `Bearer ${key}` } });
  const text = await res.text();
  let body: any = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text for the assertion message
  }
  return { status: res.status, body };
}

/** Polls until check returns a truthy value, or fails with the last value seen. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | null | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await check();
      if (v) return v;
      last = v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`timed out waiting for ${what}; last: ${last instanceof Error ? last.message : JSON.stringify(last)}`);
}

export function randomHex(bytes: number): string {
  let s = '';
  for (let i = 0; i < bytes; i++) s += Math.floor(Math.random() * 256).toString(16).padStart(2, '0');
  return s;
}
