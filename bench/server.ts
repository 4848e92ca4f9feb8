/**
 * A server under test, in its own process:
 * `node bench/server.ts noop|gateway|gateway-kafka|grpc-noop|grpc-h2-noop|grpc-gateway|grpc-gateway-kafka|stack <dataDir>`.
 * Prints `READY <gatewayPort> <apiPort> <apiKey>` (the gRPC port for the grpc-* modes); on the
 * IPC message 'stats' answers with its peak RSS and CPU time; on 'stop' exits.
 */
// First, as the `ollystack` command loads it: the threadpool size and V8's GC setting.
import '../src/cli/process-tuning.ts';
import { createServer } from 'node:http';
import { Writable } from 'node:stream';
import { createEmbeddedBus, createKafkaBus, defaultTopicSpecs, type Bus } from '../src/bus/index.ts';
import { configSchema } from '../src/config/index.ts';
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { createGrpcReceiver, createHttpReceiver, createIngestPipeline, otlpServiceDefinition, startGrpcH2Server } from '../src/gateway/index.ts';
import { createLogger, createRegistry } from '../src/selfobs/index.ts';
import { startEmbeddedStack } from '../src/stack/index.ts';
import { SIGNALS } from '../src/telemetry/index.ts';
import { StaticKeyResolver } from '../src/tenancy/index.ts';

const [mode, dataDir] = process.argv.slice(2);
const KEY = 'bench-key-000000000000';
const quiet = createLogger('warn', new Writable({ write: (_c, _e, cb) => cb() }));
let stop: () => Promise<void>;

/** The embedded bus in the data folder, or the broker in BENCH_KAFKA (32 partitions, as distributed mode). */
async function benchBus(kafka: boolean): Promise<Bus> {
  const bus: Bus = kafka
    ? await createKafkaBus({ brokers: [process.env.BENCH_KAFKA!], replicationFactor: 1, compression: (process.env.BENCH_KAFKA_COMPRESSION ?? 'lz4') as 'lz4' | 'none' })
    : await createEmbeddedBus({ dir: dataDir, defaultPartitions: 4 });
  await bus.ensureTopics(defaultTopicSpecs(kafka ? 32 : 4));
  return bus;
}

/** The ingest path as the stack runs it: every item checked against the default limits. */
function productionPipeline(bus: Bus) {
  return createIngestPipeline({ bus, logger: quiet, limits: configSchema.parse({}).gateway.limits });
}

if (mode === 'noop') {
  // The ceiling: reads the whole body and answers 200, nothing else.
  const server = createServer((req, res) => {
    req.on('data', () => {});
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/x-protobuf', 'content-length': '0' });
      res.end();
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  stop = () => new Promise((r) => server.close(() => r()));
  process.stdout.write(`READY ${port} 0 ${KEY}\n`);
} else if (mode === 'gateway' || mode === 'gateway-kafka') {
  // gateway-kafka: the same gateway producing to the broker in BENCH_KAFKA (32 partitions, as distributed mode).
  const bus = await benchBus(mode === 'gateway-kafka');
  const keys = new StaticKeyResolver();
  keys.add(KEY, 'bench');
  const app = createHttpReceiver({ bus, pipeline: productionPipeline(bus), keys, logger: quiet, registry: createRegistry(), maxRequestBytes: 64 * 1024 * 1024 });
  await app.listen({ host: '127.0.0.1', port: 0 });
  app.server.keepAliveTimeout = 60_000;
  const port = (app.server.address() as { port: number }).port;
  stop = async () => {
    await app.close();
    await bus.close();
  };
  process.stdout.write(`READY ${port} 0 ${KEY}\n`);
} else if (mode === 'grpc-noop') {
  // The gRPC ceiling: the receiver's own service definitions (bytes in, no decode), answering empty at once.
  const server = new Server({ 'grpc.max_receive_message_length': 64 * 1024 * 1024 });
  for (const signal of SIGNALS) server.addService(otlpServiceDefinition(signal), { Export: (_call: unknown, done: (err: null, res: Uint8Array) => void) => done(null, new Uint8Array(0)) });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  stop = () => new Promise((r) => server.tryShutdown(() => r()));
  process.stdout.write(`READY ${port} 0 ${KEY}\n`);
} else if (mode === 'grpc-h2-noop') {
  // The ceiling of the gateway's own gRPC transport: the same node:http2 server, every call
  // answered OK as soon as its message is read (nothing checked, nothing written).
  const server = await startGrpcH2Server({
    host: '127.0.0.1',
    port: 0,
    name: 'bench no-op',
    logger: quiet,
    maxRequestBytes: 64 * 1024 * 1024,
    drainTimeoutMs: 1_000,
    cardinalityCode: 12,
    ingest: async () => ({ accepted: 0, rejected: 0, message: '' }),
  });
  stop = () => server.close();
  process.stdout.write(`READY ${server.port} 0 ${KEY}\n`);
} else if (mode === 'grpc-gateway' || mode === 'grpc-gateway-kafka') {
  const bus = await benchBus(mode === 'grpc-gateway-kafka');
  const keys = new StaticKeyResolver();
  keys.add(KEY, 'bench');
  const receiver = createGrpcReceiver({ pipeline: productionPipeline(bus), keys, logger: quiet, registry: createRegistry(), maxRequestBytes: 64 * 1024 * 1024 });
  const port = await receiver.listen({ host: '127.0.0.1', port: 0 });
  stop = async () => {
    await receiver.close();
    await bus.close();
  };
  process.stdout.write(`READY ${port} 0 ${KEY}\n`);
} else if (mode === 'stack') {
  const config = configSchema.parse({
    dataDir,
    apiKey: KEY,
    gateway: { host: '127.0.0.1', httpPort: 0, grpcPort: 0, maxRequestBytes: 64 * 1024 * 1024 },
    api: { host: '127.0.0.1', port: 0 },
    log: { level: 'warn' },
    // BENCH_STACK_CONFIG='{"storage":{"batchMaxRows":100000}}' tries other settings.
    ...JSON.parse(process.env.BENCH_STACK_CONFIG ?? '{}'),
  });
  const stack = await startEmbeddedStack(config, { logger: quiet });
  stop = () => stack.stop();
  process.stdout.write(`READY ${new URL(stack.gatewayUrl).port} ${new URL(stack.apiUrl).port} ${KEY}\n`);
} else {
  process.stderr.write(`unknown mode ${mode}\n`);
  process.exit(2);
}

process.on('message', async (msg) => {
  if (msg === 'stats') {
    const u = process.resourceUsage();
    const m = process.memoryUsage();
    process.send!({ maxRssMB: u.maxRSS / 1024, cpuSec: (u.userCPUTime + u.systemCPUTime) / 1e6, rssMB: m.rss / 1048576, heapMB: m.heapUsed / 1048576, externalMB: m.external / 1048576 });
  } else if (msg === 'stop') {
    await stop();
    process.exit(0);
  }
});
process.on('SIGINT', async () => {
  await stop();
  process.exit(0);
});
