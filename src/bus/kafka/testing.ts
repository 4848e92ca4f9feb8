/**
 * Test helpers for the Kafka bus: the shared test broker (scripts/services up) and private
 * brokers a test may stop and start (scripts/services kafka-start / kafka-stop).
 */
import net from 'node:net';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const TEST_KAFKA = process.env.OLLYSTACK_TEST_KAFKA ?? '127.0.0.1:9092';

const SERVICES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../scripts/services');
const run = promisify(execFile);

function canConnect(hostPort: string, timeoutMs: number): Promise<string | null> {
  const i = hostPort.lastIndexOf(':');
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostPort.slice(0, i), port: Number(hostPort.slice(i + 1)) });
    const done = (err: string | null) => {
      socket.destroy();
      resolve(err);
    };
    socket.setTimeout(timeoutMs, () => done('no answer'));
    socket.once('connect', () => done(null));
    socket.once('error', (err) => done(err.message));
  });
}

let checked: Promise<void> | null = null;

/** Fails (never skips) when the test broker is down, saying how to start it. */
export function requireKafka(): Promise<void> {
  checked ??= canConnect(TEST_KAFKA, 3_000).then((err) => {
    if (err !== null) throw new Error(`Kafka is not reachable at ${TEST_KAFKA} (${err}): run \`scripts/services up\` (or set OLLYSTACK_TEST_KAFKA)`);
  });
  return checked;
}

/** A port where a private broker (which also takes port + 1 for its controller) can listen. */
export async function freeBrokerPort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 19192 + 2 * Math.floor(Math.random() * 400);
    if ((await canConnect(`127.0.0.1:${port}`, 500)) !== null && (await canConnect(`127.0.0.1:${port + 1}`, 500)) !== null) return port;
  }
  throw new Error('no free port pair for a private Kafka broker in 19192..19992');
}

export async function startPrivateKafka(dir: string, port: number): Promise<void> {
  await run(SERVICES, ['kafka-start', dir, String(port)], { timeout: 120_000 });
}

export async function stopPrivateKafka(dir: string): Promise<void> {
  await run(SERVICES, ['kafka-stop', dir], { timeout: 60_000 });
}
