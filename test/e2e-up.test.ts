/**
 * `ollystack up` as a user runs it, in a child process: demo traffic goes in and comes out of
 * the API; Ctrl-C stops it cleanly and a restart keeps the data; kill -9 during ingest loses
 * nothing that was acknowledged and stores nothing twice.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { post, traceRequest } from './fixtures.ts';
import { apiGet, randomHex, waitFor } from './helpers.ts';

const BIN = fileURLToPath(new URL('../bin/ollystack.js', import.meta.url));
const dataDir = mkdtempSync(join(tmpdir(), 'olly-e2e-'));
const KEY = 'e2e-test-key-00000000';
const running = new Set<ChildProcess>();
after(() => {
  for (const c of running) c.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

const env = {
  ...process.env,
  OLLYSTACK_DATA_DIR: dataDir,
  OLLYSTACK_API_KEY: KEY,
  OLLYSTACK_GATEWAY__HOST: '127.0.0.1',
  OLLYSTACK_GATEWAY__HTTP_PORT: '0',
  OLLYSTACK_GATEWAY__GRPC_PORT: '0',
  OLLYSTACK_API__HOST: '127.0.0.1',
  OLLYSTACK_API__PORT: '0',
  OLLYSTACK_STORAGE__BATCH_MAX_MS: '100',
  OLLYSTACK_LOG__LEVEL: 'warn',
};

interface Up {
  child: ChildProcess;
  gateway: string;
  api: string;
  output: () => string;
}

async function up(): Promise<Up> {
  const child = spawn(process.execPath, [BIN, 'up'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  child.on('exit', () => running.delete(child));
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const urls = await waitFor(
    'the banner of ollystack up',
    async () => {
      if (child.exitCode !== null) throw new Error(`up exited with ${child.exitCode}: ${out}`);
      const g = /OTLP\/HTTP\s+(http:\/\/\S+)/.exec(out);
      const a = /API\s+(http:\/\/\S+)\/api\/v1/.exec(out);
      return g && a ? { gateway: g[1], api: a[1] } : null;
    },
    60_000,
  );
  return { child, ...urls, output: () => out };
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', (code) => resolve(code))));
}

test('demo traffic is queryable; Ctrl-C stops cleanly and a restart keeps the data', async () => {
  let stack = await up();
  assert.match(stack.output(), new RegExp(`API key\\s+${KEY}`));
  const demo = spawn(process.execPath, [BIN, 'demo', '--endpoint', stack.gateway, '--duration', '4', '--rate', '10'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let demoOut = '';
  demo.stdout!.on('data', (d) => (demoOut += d));
  demo.stderr!.on('data', (d) => (demoOut += d));
  assert.equal(await exited(demo), 0, demoOut);

  const services = await waitFor('services from the demo', async () => {
    const r = await apiGet(stack.api, '/api/v1/services', KEY);
    return r.status === 200 && r.body.services.length >= 4 ? r.body.services : null;
  });
  const names = services.map((x: any) => x.name);
  for (const name of ['frontend', 'checkout', 'payments']) assert.ok(names.includes(name), `${name} in ${names}`);
  assert.ok(services.find((x: any) => x.name === 'frontend').requests > 0);

  const traces = await apiGet(stack.api, '/api/v1/traces?service=frontend&limit=20', KEY);
  assert.equal(traces.status, 200);
  assert.ok(traces.body.traces.length > 0);
  const multi = traces.body.traces.find((t: any) => t.services.length >= 3);
  assert.ok(multi, 'a trace spanning three or more services');
  const full = await apiGet(stack.api, `/api/v1/traces/${multi.traceId}`, KEY);
  assert.equal(full.status, 200);
  const ids = new Set(full.body.spans.map((sp: any) => sp.spanId));
  for (const sp of full.body.spans) if (sp.parentSpanId) assert.ok(ids.has(sp.parentSpanId), 'every parent is in the trace');

  const logs = await waitFor('logs of the trace', async () => {
    const r = await apiGet(stack.api, `/api/v1/logs?traceId=${multi.traceId}`, KEY);
    return r.status === 200 && r.body.logs.length > 0 ? r.body.logs : null;
  });
  assert.ok(logs.every((l: any) => l.traceId === multi.traceId));
  await waitFor('a metric series', async () => {
    const r = await apiGet(stack.api, '/api/v1/metrics/query?name=http.server.request.duration&agg=p99&groupBy=service.name', KEY);
    return r.status === 200 && r.body.series.length > 0;
  });

  // Self-observability: health, readiness, and the pipeline's own figures.
  assert.equal((await fetch(`${stack.api}/healthz`)).status, 200);
  assert.equal((await fetch(`${stack.api}/readyz`)).status, 200);
  assert.equal((await fetch(`${stack.gateway}/healthz`)).status, 200);
  const selfMetrics = await (await fetch(`${stack.api}/metrics`)).text();
  const value = (re: RegExp) => Number(re.exec(selfMetrics)?.[1] ?? NaN);
  assert.ok(value(/ollystack_gateway_received_items_total\{signal="traces"\} (\d+)/) > 0, 'spans received are counted');
  assert.ok(value(/ollystack_storage_rows_written_total\{table="otel_traces"\} (\d+)/) > 0, 'rows written are counted');
  assert.match(selfMetrics, /ollystack_bus_consumer_lag\{group="storage",topic="traces"\} \d+/);
  assert.match(selfMetrics, /ollystack_storage_batch_rows_bucket/);

  stack.child.kill('SIGINT');
  assert.equal(await exited(stack.child), 0, `clean exit on Ctrl-C: ${stack.output()}`);

  stack = await up();
  const again = await apiGet(stack.api, `/api/v1/traces/${multi.traceId}`, KEY);
  assert.equal(again.status, 200);
  assert.equal(again.body.spans.length, full.body.spans.length);
  stack.child.kill('SIGINT');
  assert.equal(await exited(stack.child), 0);
});

test('kill -9 during ingest: every acknowledged record is stored exactly once', async () => {
  const SPANS = 4;
  const acked: string[] = [];
  const unacked: string[] = [];
  for (let round = 0; round < 3; round++) {
    const stack = await up();
    let stop = false;
    const sender = async () => {
      while (!stop) {
        const id = randomHex(16);
        try {
          const res = await post(stack.gateway, '/v1/traces', KEY, traceRequest('crashy', id, SPANS));
          (res.status === 200 ? acked : unacked).push(id);
        } catch {
          unacked.push(id);
        }
      }
    };
    const senders = Array.from({ length: 8 }, sender);
    const before = acked.length;
    await waitFor('some acknowledged requests', async () => acked.length - before > 50 + round * 20, 30_000);
    stack.child.kill('SIGKILL');
    await exited(stack.child);
    stop = true;
    await Promise.all(senders);
  }
  const stack = await up();
  const check = async (id: string) => (await apiGet(stack.api, `/api/v1/traces/${id}`, KEY)).body?.spans?.length ?? 0;
  await waitFor('every acknowledged trace', async () => {
    for (const id of acked.slice(-20)) if ((await check(id)) < SPANS) return false;
    return true;
  }, 60_000);
  for (const id of acked) {
    const spans = await apiGet(stack.api, `/api/v1/traces/${id}`, KEY);
    assert.equal(spans.status, 200, `acknowledged trace ${id} is stored`);
    assert.equal(spans.body.spans.length, SPANS, `trace ${id} stored exactly once`);
    assert.equal(new Set(spans.body.spans.map((x: any) => x.spanId)).size, SPANS);
  }
  for (const id of unacked.slice(0, 50)) {
    const n = await check(id);
    assert.ok(n === 0 || n === SPANS, `unacknowledged trace ${id} is absent or whole, never doubled (${n})`);
  }
  stack.child.kill('SIGINT');
  await exited(stack.child);
});
