/**
 * The OTLP receivers under fuzz: OTLP/HTTP and OTLP/gRPC on one embedded bus in a temp dir, an
 * oracle for HTTP answers (200, or a 4xx whose body is a google.rpc.Status with a message, never
 * a 5xx), and an audit of everything the bus received (every record must decode with every
 * mapper the storage consumer could use, and carry the item count it claims).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { HEADER_ITEMS, HEADER_SIGNAL, HEADER_TENANT, createEmbeddedBus, type Bus, type ConsumedRecord } from '../../src/bus/index.ts';
import { configSchema } from '../../src/config/index.ts';
import { createGrpcReceiver, createHttpReceiver, createIngestPipeline, type GrpcReceiver } from '../../src/gateway/index.ts';
import { decodeRequest } from '../../src/otlp/index.ts';
import { createLogger, createRegistry } from '../../src/selfobs/index.ts';
import { SIGNALS, type Signal } from '../../src/telemetry/signals.ts';
import { StaticKeyResolver } from '../../src/tenancy/index.ts';
import { Violations, checkProto, countItems, hex } from './fuzz-check.ts';
import { parseMessage } from './fuzz-wire.ts';

export const FUZZ_KEY = 'fuzz-tenant-key-000000000000';
export const FUZZ_HTTP_TENANT = 'fuzz-http';

export interface ReceiverHarness {
  app: FastifyInstance;
  grpc: GrpcReceiver;
  grpcPort: number;
  bus: Bus;
  close(): Promise<void>;
}

/**
 * What a deployed gateway checks (config defaults), so what reaches the bus is what production
 * lets through; with the widest time window the config allows, as the corpus is stamped at a
 * fixed instant (FIXED_NOW_MS), not now.
 */
const RECEIVER_LIMITS = { ...configSchema.parse({}).gateway.limits, maxPastHours: 24 * 365 * 10, maxFutureMinutes: 24 * 60 * 365 };

export async function startReceiver(maxRequestBytes: number): Promise<ReceiverHarness> {
  const dir = mkdtempSync(join(tmpdir(), 'olly-fuzz-'));
  const bus = await createEmbeddedBus({ dir, defaultPartitions: 1 });
  await bus.ensureTopics(SIGNALS.map((name) => ({ name, partitions: 1, retentionMs: 3_600_000 })));
  const keys = new StaticKeyResolver();
  keys.add(FUZZ_KEY, FUZZ_HTTP_TENANT);
  const logger = createLogger('silent', new Writable({ write: (_c, _e, cb) => cb() }));
  // One ingest path for both transports, as startGateway builds it.
  const pipeline = createIngestPipeline({ bus, logger, limits: RECEIVER_LIMITS });
  const app = createHttpReceiver({ bus, pipeline, keys, logger, registry: createRegistry(), maxRequestBytes });
  await app.ready();
  const grpc = createGrpcReceiver({ pipeline, keys, logger, registry: createRegistry(), maxRequestBytes, shutdownTimeoutMs: 1000 });
  const grpcPort = await grpc.listen({ host: '127.0.0.1', port: 0 });
  return {
    app,
    grpc,
    grpcPort,
    bus,
    async close() {
      await grpc.close();
      await app.close();
      await bus.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Answer {
  statusCode: number;
  headers: Record<string, string | string[] | number | undefined>;
  rawPayload: Buffer;
}

/** The google.rpc.Status of an error answer (JSON or protobuf, as its Content-Type says), or why it is not one. */
export function statusOf(answer: Answer): { code: number; message: string } | string {
  const type = String(answer.headers['content-type'] ?? '');
  const body = answer.rawPayload;
  if (type.startsWith('application/json')) {
    let v: unknown;
    try {
      v = JSON.parse(body.toString('utf8'));
    } catch {
      return `a JSON error body that does not parse: ${body.toString('utf8').slice(0, 200)}`;
    }
    const s = v as { code?: unknown; message?: unknown };
    if (typeof s !== 'object' || s === null || typeof s.code !== 'number' || typeof s.message !== 'string') return `a JSON error body that is not a Status: ${body.toString('utf8').slice(0, 200)}`;
    return { code: s.code, message: s.message };
  }
  if (type.startsWith('application/x-protobuf')) {
    const fields = parseMessage(body);
    if (!fields) return `a protobuf error body that does not parse: ${hex(body, 100)}`;
    const code = fields.find((f) => f.no === 1 && f.wt === 0);
    const message = fields.find((f) => f.no === 2 && f.wt === 2);
    return { code: code ? code.value[0] & 0x7f : 0, message: message ? Buffer.from(message.value).toString('utf8') : '' };
  }
  return `an error body of Content-Type '${type}'`;
}

/** What is wrong with an answer, or undefined: 200 with a well-formed body, or 4xx with a Status naming the problem. */
export function answerProblem(answer: Answer): string | undefined {
  const { statusCode } = answer;
  if (statusCode === 200) {
    const type = String(answer.headers['content-type'] ?? '');
    if (type.startsWith('application/json')) {
      try {
        JSON.parse(answer.rawPayload.toString('utf8'));
      } catch {
        return `200 with a body that is not JSON: ${answer.rawPayload.toString('utf8').slice(0, 200)}`;
      }
    } else if (!type.startsWith('application/x-protobuf') || !parseMessage(answer.rawPayload)) {
      return `200 with a body of type '${type}' that is not an export response`;
    }
    return undefined;
  }
  if (statusCode < 400 || statusCode > 499) return `status ${statusCode}: ${answer.rawPayload.toString('utf8').slice(0, 300)}`;
  const status = statusOf(answer);
  if (typeof status === 'string') return `${statusCode} with ${status}`;
  if (status.code === 0) return `${statusCode} with a Status of code 0 (OK)`;
  if (status.message.trim() === '') return `${statusCode} with an empty Status message`;
  return undefined;
}

/** Checks one bus record: the tenant and signal the gateway stamped, and bytes every decoder accepts with the count it claims. */
export function auditRecord(record: ConsumedRecord, out: Violations): void {
  const label = `bus record ${record.topic}/${record.partition}@${record.offset} key ${record.key?.toString() ?? '(none)'}`;
  const signal = record.topic as Signal;
  if (record.headers[HEADER_TENANT] !== FUZZ_HTTP_TENANT) out.add(label, `tenant header is ${record.headers[HEADER_TENANT]}`, record.value);
  if (record.headers[HEADER_SIGNAL] !== signal) out.add(label, `signal header is ${record.headers[HEADER_SIGNAL]} on topic ${signal}`, record.value);
  const sub = new Violations();
  if (!checkProto(signal, record.value, label, sub)) {
    let reason = '';
    try {
      decodeRequest(signal, record.value);
    } catch (err) {
      reason = (err as Error).message;
    }
    out.add(label, `the gateway accepted a record the storage consumer cannot decode: ${reason}`, record.value);
    return;
  }
  for (const v of sub.list) out.add(v.label, v.message, record.value);
  const items = countItems(signal, decodeRequest(signal, record.value));
  if (record.headers[HEADER_ITEMS] !== String(items)) out.add(label, `items header ${record.headers[HEADER_ITEMS]}, the record holds ${items}`, record.value);
}

/**
 * A raw HTTP/1.1 exchange over a socket, for what inject cannot send (a body shorter than its
 * Content-Length, broken chunked framing): writes `request` (then half-closes when `endAfter`,
 * as a client that gave up would) and collects what comes back until the server closes or `ms`
 * pass. Returns the status (undefined when the server closed without answering) and the raw answer.
 */
export function rawExchange(port: number, request: Uint8Array, endAfter: boolean, ms: number): Promise<{ status: number | undefined; raw: string; timedOut: boolean }> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let done = false;
    const finish = (timedOut: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      const raw = Buffer.concat(chunks).toString('latin1');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(raw);
      resolve({ status: m ? Number(m[1]) : undefined, raw, timedOut });
    };
    const timer = setTimeout(() => finish(true), ms);
    socket.on('data', (c) => chunks.push(c));
    socket.on('close', () => finish(false));
    socket.on('error', () => finish(false));
    socket.on('connect', () => (endAfter ? socket.end(Buffer.from(request)) : socket.write(Buffer.from(request))));
  });
}
