/**
 * The agent under the issue's load: 10,000 log lines/s appended to a tailed file, 5,000 spans/s
 * (1,000 traces of 5 spans, 1 % with an error) posted to its local OTLP/HTTP receiver, and host
 * metrics every 10 s. Measured: peak RSS and CPU (share of one core) of the agent process, with
 * the gateway up (a local server that answers 200) and with it down (everything goes to the
 * disk buffer). Baselines in the same run: the same agent idle (host metrics only), and
 * coreutils `tail -F` following the same file at the same rate.
 * Then the aggregator's reduction on the demo workload: data points in versus out.
 * Run: npx node bench/agent.ts (BENCH_AGENT_SECONDS, default 30, sets each load's duration).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { createMetricAggregator } from '../src/agent/index.ts';
import { DEFAULT_METRICS_INTERVAL_MS, Workload } from '../src/demo/index.ts';
import { decodeRequest, encodeRequest, opentelemetry } from '../src/otlp/index.ts';

const here = (f: string) => fileURLToPath(new URL(f, import.meta.url));
const BIN = here('../bin/ollystack.js');
/** The single-file agent (npm run build:agent), built into a temp folder for this run. */
const BUNDLE_DIR = mkdtempSync(join(tmpdir(), 'olly-bench-agent-bundle-'));
const BUNDLE = join(BUNDLE_DIR, 'ollystack-agent.mjs');
execFileSync(process.execPath, [here('../scripts/build-agent.ts'), '--outfile', BUNDLE], { stdio: 'ignore' });
type Build = 'bundle' | 'source';
const SECONDS = Number(process.env.BENCH_AGENT_SECONDS ?? 30);
const LINES_PER_SEC = 10_000;
const SPANS_PER_SEC = 5_000;
const SPANS_PER_TRACE = 5;
const TICK_MS = 20;
const KEY = 'bench-agent-key-00000000';
const CLK_TCK = 100;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Peak RSS (VmHWM) and CPU seconds of a process, from /proc. */
function procUsage(pid: number): { hwmMb: number; rssMb: number; cpuSec: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpuTicks = Number(fields[11]) + Number(fields[12]); // utime + stime
  return { hwmMb: kb('VmHWM') / 1024, rssMb: kb('VmRSS') / 1024, cpuSec: cpuTicks / CLK_TCK };
}

interface Measured {
  peakRssMb: number;
  cpuPct: number;
}

/** Samples a process over the load: peak RSS (its high-water mark) and mean CPU share of one core. */
async function measure(pid: number, seconds: number): Promise<Measured> {
  const start = procUsage(pid);
  const t0 = performance.now();
  let peak = start.rssMb;
  const end = t0 + seconds * 1000;
  while (performance.now() < end) {
    await sleep(500);
    peak = Math.max(peak, procUsage(pid).rssMb);
  }
  const last = procUsage(pid);
  const wall = (performance.now() - t0) / 1000;
  return { peakRssMb: Math.max(peak, last.hwmMb), cpuPct: (100 * (last.cpuSec - start.cpuSec)) / wall };
}

function fakeGateway(): Promise<{ server: Server; port: number; items: () => number; requests: () => number }> {
  let requests = 0;
  const server = createServer((req, res) => {
    req.on('data', () => {});
    req.on('end', () => {
      requests++;
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as AddressInfo).port, items: () => 0, requests: () => requests })));
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

interface AgentRun {
  child: ChildProcess;
  otlpPort: number;
  statusPort: number;
  logFile: string;
  dir: string;
}

async function startAgent(gatewayPort: number, build: Build = 'bundle', extra: Record<string, unknown> = {}): Promise<AgentRun> {
  const dir = mkdtempSync(join(tmpdir(), 'olly-bench-agent-'));
  const logFile = join(dir, 'app.log');
  writeFileSync(logFile, '');
  const otlpPort = await freePort();
  const statusPort = await freePort();
  const configFile = join(dir, 'agent.yaml');
  writeFileSync(
    configFile,
    stringify({
      dataDir: join(dir, 'data'),
      log: { level: 'error' },
      agent: { endpoint: `http://127.0.0.1:${gatewayPort}`, statusPort, otlp: { host: '127.0.0.1', httpPort: otlpPort, grpcPort: 0 }, logs: { include: [logFile], startAt: 'end' }, ...extra },
    }),
  );
  const child = spawn(process.execPath, [build === 'bundle' ? BUNDLE : BIN, 'agent', '--config', configFile], { env: { ...process.env, OLLYSTACK_API_KEY: KEY }, stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('OllyStack agent is running')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`agent exited with ${code}: ${out}`)));
  });
  return { child, otlpPort, statusPort, logFile, dir };
}

async function stopAgent(a: AgentRun): Promise<void> {
  const exited = new Promise((r) => a.child.once('exit', r));
  a.child.kill('SIGTERM');
  await exited;
  rmSync(a.dir, { recursive: true, force: true });
}

async function status(a: AgentRun): Promise<{ components: Record<string, Record<string, number>> }> {
  return (await fetch(`http://127.0.0.1:${a.statusPort}/status`)).json() as never;
}

const TraceRequest = opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;

/** One request of `traces` traces of SPANS_PER_TRACE spans; about 1 % of traces carry an error. */
function traceBatch(traces: number, seq: number): Uint8Array {
  const now = BigInt(Date.now()) * 1_000_000n;
  const spans = [];
  for (let t = 0; t < traces; t++) {
    const traceId = new Uint8Array(16);
    crypto.getRandomValues(traceId);
    const error = (seq * traces + t) % 100 === 0;
    for (let s = 0; s < SPANS_PER_TRACE; s++) {
      const spanId = new Uint8Array(8);
      crypto.getRandomValues(spanId);
      spans.push({
        traceId,
        spanId,
        name: s === 0 ? 'GET /checkout' : `step ${s}`,
        kind: s === 0 ? 2 : 1,
        startTimeUnixNano: (now - 20_000_000n).toString(),
        endTimeUnixNano: (now - BigInt(19_000_000 - s * 100_000)).toString(),
        attributes: [{ key: 'http.route', value: { stringValue: '/checkout' } }],
        status: { code: error && s === SPANS_PER_TRACE - 1 ? 2 : 0 },
      });
    }
  }
  return TraceRequest.encode(TraceRequest.fromObject({ resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'bench-app' } }] }, scopeSpans: [{ spans }] }] })).finish();
}

/** Drives the issue's load until stopped: lines appended and spans posted every tick. */
function startLoad(a: AgentRun) {
  const linesPerTick = (LINES_PER_SEC * TICK_MS) / 1000;
  const tracesPerTick = SPANS_PER_SEC / SPANS_PER_TRACE / (1000 / TICK_MS);
  let lines = 0;
  let spans = 0;
  let failed = 0;
  let seq = 0;
  let running = true;
  const started = performance.now();
  const loop = (async () => {
    let next = performance.now();
    while (running) {
      let chunk = '';
      for (let i = 0; i < linesPerTick; i++) chunk += `2026-11-27T20:00:00.000Z INFO [worker-${i % 8}] order ${++lines} handled in 12 ms user=u${lines % 1000}\n`;
      appendFileSync(a.logFile, chunk);
      // New trace ids every time: repeated ids would be late spans of traces already decided.
      const body = traceBatch(tracesPerTick, seq++);
      fetch(`http://127.0.0.1:${a.otlpPort}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body })
        .then((r) => (r.ok ? (spans += tracesPerTick * SPANS_PER_TRACE) : failed++))
        .catch(() => failed++);
      next += TICK_MS;
      await sleep(Math.max(0, next - performance.now()));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      const secs = (performance.now() - started) / 1000;
      return { linesPerSec: lines / secs, spansPerSec: spans / secs, failed };
    },
  };
}

async function tailBaseline(seconds: number): Promise<Measured & { linesPerSec: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'olly-bench-tail-'));
  const file = join(dir, 'app.log');
  writeFileSync(file, '');
  const tail = spawn('tail', ['-F', '-n', '0', file], { stdio: ['ignore', 'ignore', 'ignore'] });
  const load = startLoad({ child: tail, otlpPort: 1, statusPort: 0, logFile: file, dir });
  const m = await measure(tail.pid!, seconds);
  const l = await load.stop();
  tail.kill();
  rmSync(dir, { recursive: true, force: true });
  return { ...m, linesPerSec: l.linesPerSec };
}

const f1 = (n: number) => n.toFixed(1);

console.log(`\n### Agent under load (${SECONDS} s each): ${LINES_PER_SEC} lines/s + ${SPANS_PER_SEC} spans/s + host metrics`);
console.log('| case | lines/s | spans/s | peak RSS MB | CPU % of a core | notes |');
console.log('|---|---|---|---|---|---|');
const gw = await fakeGateway();
{
  const a = await startAgent(gw.port);
  const idle = await measure(a.child.pid!, Math.min(SECONDS, 10));
  console.log(`| baseline: agent idle (host metrics only) | 0 | 0 | ${f1(idle.peakRssMb)} | ${f1(idle.cpuPct)} | single-file agent |`);
  await stopAgent(a);
}
{
  const t = await tailBaseline(SECONDS);
  console.log(`| baseline: tail -F, same file and rate | ${t.linesPerSec.toFixed(0)} | - | ${f1(t.peakRssMb)} | ${f1(t.cpuPct)} | coreutils, reads only |`);
}
const cases: Array<[Build, boolean]> = [['bundle', true], ['bundle', false], ['source', true]];
for (const [build, gatewayUp] of cases) {
  const port = gatewayUp ? gw.port : await freePort();
  const a = await startAgent(port, build);
  const load = startLoad(a);
  const m = await measure(a.child.pid!, SECONDS);
  const l = await load.stop();
  const s = await status(a);
  const ex = s.components.exporter ?? {};
  const smp = s.components.sampler ?? {};
  const notes = `sent ${ex.sentItems ?? 0} items, buffered ${(((ex.bufferedBytes ?? 0) as number) / 1048576).toFixed(1)} MB, traces kept ${smp.tracesKept ?? 0}/${smp.tracesIn ?? 0}${l.failed ? `, ${l.failed} posts failed` : ''}`;
  const what = build === 'bundle' ? 'single-file agent' : 'agent from the sources';
  console.log(`| ${what}, gateway ${gatewayUp ? 'up' : 'down (buffering)'} | ${l.linesPerSec.toFixed(0)} | ${l.spansPerSec.toFixed(0)} | ${f1(m.peakRssMb)} | ${f1(m.cpuPct)} | ${notes} |`);
  await stopAgent(a);
}
gw.server.close();
console.log('Targets (issue 5): under 100 MB RSS and under 25 % of one core in both cases.');
rmSync(BUNDLE_DIR, { recursive: true, force: true });

/**
 * Data points into the aggregator versus out, on the demo workload (20 requests/s over five
 * services), its metrics exported at several intervals into the agent's default 60 s window,
 * over 5 windows of simulated time. The points are what the aggregator sends to the gateway.
 */
async function reduction(exportEverySec: number, windowSec = 60, windows = 5): Promise<{ pointsIn: number; pointsOut: number }> {
  let pointsOut = 0;
  const agg = createMetricAggregator({ next: { consume: async (b) => void (pointsOut += b.items) }, windowMs: 3_600_000 });
  const start = Date.UTC(2026, 10, 27, 12);
  const workload = new Workload({ seed: 7, startMs: start, rate: 20 });
  for (let w = 0; w < windows; w++) {
    for (let at = start + w * windowSec * 1000; at < start + (w + 1) * windowSec * 1000; at += exportEverySec * 1000) {
      workload.window(at, at + exportEverySec * 1000);
      const m = workload.metricsAt(at + exportEverySec * 1000);
      await agg.consume({ signal: 'metrics', request: decodeRequest('metrics', encodeRequest('metrics', m.request)), items: m.dataPoints });
    }
    await agg.flush();
  }
  const { pointsIn } = agg.stats();
  await agg.stop();
  return { pointsIn, pointsOut };
}

console.log('\n### Agent aggregation on the demo workload (60 s window, 5 windows)');
console.log('| demo metric export interval | points in | points out | fewer points sent |');
console.log('|---|---|---|---|');
const demoDefaultSec = DEFAULT_METRICS_INTERVAL_MS / 1000;
for (const every of [demoDefaultSec, 10, 5, 1].filter((s, i, all) => all.indexOf(s) === i)) {
  const r = await reduction(every);
  const label = every === demoDefaultSec ? `${every} s (the demo's default)` : `${every} s`;
  console.log(`| ${label} | ${r.pointsIn} | ${r.pointsOut} | ${(100 * (1 - r.pointsOut / r.pointsIn)).toFixed(1)} % |`);
}
console.log('Target (issue 5): 90 % or more fewer points. `ollystack demo --metrics-interval S` sets the interval.');
