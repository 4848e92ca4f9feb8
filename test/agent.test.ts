/**
 * The agent end to end, as a user runs it: `ollystack agent` (CLI, supervisor, worker) tailing
 * a file and taking OTLP from an application, sending to the embedded stack, whose store is a
 * ClickHouse HTTP endpoint the test can count rows in.
 *  - the gateway down for a while under steady load, then back: everything arrives exactly once;
 *  - kill -9 of the agent under load, then a restart: no line missing or repeated.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Writable } from 'node:stream';
import { configSchema } from '../src/config/index.ts';
import { createLogger } from '../src/selfobs/index.ts';
import { startEmbeddedStack, type RunningStack } from '../src/stack/index.ts';
import { createStore, type Store } from '../src/storage/index.ts';
import { post, traceRequest } from './fixtures.ts';
import { randomHex, waitFor } from './helpers.ts';
import { startAgentProcess, writeAgentConfig, type AgentProcess } from './support/agent.ts';
import { freePortPair, startClickHouseEndpoint, type ClickHouseEndpoint } from './support/distributed.ts';

const KEY = 'agent-test-key-000000';
const BIN = fileURLToPath(new URL('../bin/ollystack.js', import.meta.url));

let clickhouse: ClickHouseEndpoint;
let store: Store;
const dirs: string[] = [];
/** The single-file agent users install (npm run build:agent), built for this run. */
let singleFileAgent: string;

before(async () => {
  clickhouse = await startClickHouseEndpoint();
  store = await createStore({ url: clickhouse.url });
  singleFileAgent = join(tempDir(), 'ollystack-agent.mjs');
  execFileSync(process.execPath, [fileURLToPath(new URL('../scripts/build-agent.ts', import.meta.url)), '--outfile', singleFileAgent], { stdio: 'pipe' });
});

after(async () => {
  await store?.close();
  await clickhouse?.remove();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'olly-agent-e2e-'));
  dirs.push(d);
  return d;
}

/** The embedded stack on a fixed gateway port and data folder, so it can be stopped and started again. */
async function startStack(dataDir: string, gatewayPort: number): Promise<RunningStack> {
  const config = configSchema.parse({
    dataDir,
    apiKey: KEY,
    gateway: { host: '127.0.0.1', httpPort: gatewayPort, grpcPort: 0 },
    api: { host: '127.0.0.1', port: 0 },
    store: { url: clickhouse.url },
    storage: { batchMaxMs: 100 },
    log: { level: 'warn' },
  });
  const quiet = new Writable({ write: (_c, _e, cb) => cb() });
  return startEmbeddedStack(config, { logger: createLogger('warn', process.env.OLLY_TEST_LOGS ? process.stderr : quiet) });
}

interface AgentSetup {
  dir: string;
  logFile: string;
  configFile: string;
  otlpPort: number;
  statusPort: number;
}

async function agentSetup(gatewayPort: number, service: string): Promise<AgentSetup> {
  const dir = tempDir();
  const logFile = join(dir, `${service}.log`);
  appendFileSync(logFile, '');
  const otlpPort = await freePortPair();
  const statusPort = otlpPort + 1;
  const configFile = writeAgentConfig(join(dir, 'agent.yaml'), {
    dataDir: join(dir, 'data'),
    log: { level: 'warn' },
    agent: {
      endpoint: `http://127.0.0.1:${gatewayPort}`,
      statusPort,
      hostMetrics: { enabled: false },
      otlp: { host: '127.0.0.1', httpPort: otlpPort, grpcPort: 0 },
      logs: { include: [logFile], startAt: 'beginning' },
      // Every trace kept: this test counts deliveries, not sampling.
      sampling: { targetTracesPerSecond: 1_000_000, decisionWaitSeconds: 1 },
    },
  });
  return { dir, logFile, configFile, otlpPort, statusPort };
}

/** Appends numbered lines at a steady rate until stopped; resolves with how many were written. */
function steadyWriter(file: string, tag: string, linesPerTick: number, tickMs = 20) {
  let seq = 0;
  const timer = setInterval(() => {
    let chunk = '';
    for (let i = 0; i < linesPerTick; i++) chunk += `level=info tag=${tag} seq=${++seq} msg="request handled"\n`;
    appendFileSync(file, chunk);
  }, tickMs);
  return {
    stop: () => {
      clearInterval(timer);
      return seq;
    },
  };
}

async function logCounts(tag: string): Promise<{ rows: number; distinct: number }> {
  const [r] = await store.query<{ rows: string; distinct: string }>(
    "SELECT count() AS rows, uniqExact(Body) AS distinct FROM otel_logs WHERE position(Body, {needle:String}) > 0",
    { needle: `tag=${tag} ` },
  );
  return { rows: Number(r.rows), distinct: Number(r.distinct) };
}

async function spanCounts(service: string): Promise<{ rows: number; distinct: number }> {
  const [r] = await store.query<{ rows: string; distinct: string }>(
    'SELECT count() AS rows, uniqExact(TraceId, SpanId) AS distinct FROM otel_traces WHERE ServiceName = {service:String}',
    { service },
  );
  return { rows: Number(r.rows), distinct: Number(r.distinct) };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('the gateway down for a while under steady load, then back: every line and span arrives exactly once', { timeout: 240_000 }, async () => {
  const stackDir = tempDir();
  const gatewayPort = await freePortPair();
  let stack: RunningStack | undefined = await startStack(stackDir, gatewayPort);
  const setup = await agentSetup(gatewayPort, 'outage');
  const agent: AgentProcess = await startAgentProcess(setup.configFile, { OLLYSTACK_API_KEY: KEY });
  try {
    const writer = steadyWriter(setup.logFile, 'outage', 4);
    // An application on the host sends traces to the agent's local OTLP receiver all along.
    let spansSent = 0;
    let appRunning = true;
    const app = (async () => {
      while (appRunning) {
        const res = await post(`http://127.0.0.1:${setup.otlpPort}`, '/v1/traces', 'unused', traceRequest('outage-app', randomHex(16), 3));
        assert.equal(res.status, 200, await res.text());
        spansSent += 3;
        await sleep(50);
      }
    })();

    await sleep(3_000);
    await stack.stop();
    stack = undefined;
    await sleep(5_000); // the gateway is down: the agent buffers to disk
    stack = await startStack(stackDir, gatewayPort);
    await sleep(3_000);
    const lines = writer.stop();
    appRunning = false;
    await app;
    assert.ok(lines > 500 && spansSent > 100, `load was applied (${lines} lines, ${spansSent} spans)`);

    const logs = await waitFor('every line in the store', async () => {
      const c = await logCounts('outage');
      if (c.rows < lines) throw new Error(`${c.rows} rows (${c.distinct} distinct) of ${lines} lines`);
      return c;
    }, 90_000);
    const spans = await waitFor('every span in the store', async () => {
      const c = await spanCounts('outage-app');
      if (c.rows < spansSent) throw new Error(`${c.rows} rows (${c.distinct} distinct) of ${spansSent} spans`);
      return c;
    }, 90_000);
    await sleep(2_000); // anything doubled would land by now
    assert.deepEqual(await logCounts('outage'), { rows: lines, distinct: lines });
    assert.deepEqual(await spanCounts('outage-app'), { rows: spansSent, distinct: spansSent });
    assert.equal(logs.distinct, lines);
    assert.equal(spans.distinct, spansSent);

    // `ollystack agent status` reports what went through.
    const status = JSON.parse(execFileSync(process.execPath, [BIN, 'agent', 'status', '--port', String(setup.statusPort), '--json'], { encoding: 'utf8' }));
    assert.ok(status.components.exporter.sentItems >= lines + spansSent, JSON.stringify(status.components.exporter));
    assert.ok(status.components.exporter.retries > 0, 'the outage made the exporter retry');
    assert.equal(status.components.exporter.droppedItems, 0);
    const text = execFileSync(process.execPath, [BIN, 'agent', 'status', '--port', String(setup.statusPort)], { encoding: 'utf8' });
    assert.match(text, /Sending to +http:\/\/127\.0\.0\.1:\d+ +gateway reachable/);
    assert.match(text, /log files \(1 tracked/);
  } finally {
    assert.equal(await agent.kill('SIGTERM'), 0, agent.output());
    await stack?.stop();
  }
});

test('kill -9 of the single-file agent under load, then restarts: no line missing or repeated', { timeout: 240_000 }, async () => {
  const stackDir = tempDir();
  const gatewayPort = await freePortPair();
  const stack = await startStack(stackDir, gatewayPort);
  const setup = await agentSetup(gatewayPort, 'crash');
  // The single-file agent here (the sources in the test above): both are what users run.
  const start = () => startAgentProcess(setup.configFile, { OLLYSTACK_API_KEY: KEY }, singleFileAgent);
  let agent = await start();
  try {
    const writer = steadyWriter(setup.logFile, 'crash', 10);
    await sleep(3_000);
    await agent.kill('SIGKILL');
    await sleep(1_500); // lines keep coming while no agent runs
    agent = await start();
    await sleep(3_000);
    await agent.kill('SIGKILL');
    agent = await start();
    await sleep(2_000);
    const lines = writer.stop();
    assert.ok(lines > 1000, `load was applied (${lines} lines)`);
    await waitFor('every line in the store', async () => {
      const c = await logCounts('crash');
      if (c.rows < lines) throw new Error(`${c.rows} rows (${c.distinct} distinct) of ${lines} lines`);
      return c;
    }, 90_000);
    await sleep(2_000);
    const counts = await logCounts('crash');
    assert.deepEqual(counts, { rows: lines, distinct: lines }, 'each line exactly once');
  } finally {
    await agent.kill('SIGTERM');
    await stack.stop();
  }
});

test('a local OTLP port already taken names the key to change', { timeout: 60_000 }, async () => {
  const gatewayPort = await freePortPair();
  const stack = await startStack(tempDir(), gatewayPort);
  try {
    const setup = await agentSetup(gatewayPort, 'taken');
    // The stack's own gateway holds gatewayPort: the agent's local receiver asks for it too.
    const configFile = writeAgentConfig(join(setup.dir, 'taken.yaml'), {
      dataDir: join(setup.dir, 'data2'),
      agent: { endpoint: `http://127.0.0.1:${gatewayPort}`, statusPort: 0, hostMetrics: { enabled: false }, otlp: { host: '127.0.0.1', httpPort: gatewayPort, grpcPort: 0 } },
    });
    await assert.rejects(startAgentProcess(configFile, { OLLYSTACK_API_KEY: KEY }), (err: Error) => {
      assert.match(err.message, /agent\.otlp\.httpPort: port \d+ on 127\.0\.0\.1 is already in use/);
      assert.match(err.message, /exited with 2/);
      return true;
    });
  } finally {
    await stack.stop();
  }
});
