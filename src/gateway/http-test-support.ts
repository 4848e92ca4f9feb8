/**
 * Test helpers for the OTLP/HTTP receiver: a real receiver on an embedded bus in a temp dir,
 * with a bus whose acknowledgement a test can hold back (a slow bus), and small OTLP requests.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { createEmbeddedBus, type Bus, type ConsumedRecord } from '../bus/index.ts';
import { opentelemetry } from '../otlp/index.ts';
import { createLogger, createRegistry, type Registry } from '../selfobs/index.ts';
import { StaticKeyResolver } from '../tenancy/index.ts';
import { createHttpReceiver, type HttpReceiverOptions } from './http-receiver.ts';

const Trace = opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;

export const KEYS = { 'tenant-a': 'tenant-a-key-0000000000', 'tenant-b': 'tenant-b-key-0000000000', 'tenant-c': 'tenant-c-key-0000000000' } as const;

/** An export of `spans` spans of one service, as protobuf bytes. */
export function traceExport(service: string, spans: number, nameBytes = 4): Uint8Array {
  return Trace.encode(
    Trace.fromObject({
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
          scopeSpans: [
            {
              spans: Array.from({ length: spans }, (_, i) => ({
                traceId: Buffer.alloc(16, 7),
                spanId: Buffer.from([0, 0, 0, 0, 0, 0, 1, i & 0xff]),
                name: 'x'.repeat(nameBytes),
                startTimeUnixNano: '1700000000000000000',
                endTimeUnixNano: '1700000000001000000',
              })),
            },
          ],
        },
      ],
    }),
  ).finish();
}

export function protobufHeaders(tenant: keyof typeof KEYS): Record<string, string> {
  return { authorization: `Bearer ${KEYS[tenant]}`, 'content-type': 'application/x-protobuf' };
}

export interface TestReceiver {
  app: FastifyInstance;
  registry: Registry;
  /** Until release(), produce waits (after announcing itself to `produced`). */
  hold(): { release: () => void };
  /** Resolves when the next produce call starts. */
  nextProduce(): Promise<void>;
  /** Everything on the traces topic so far. */
  records(): Promise<ConsumedRecord[]>;
  close(): Promise<void>;
}

export async function startTestReceiver(options: Partial<HttpReceiverOptions> = {}): Promise<TestReceiver> {
  const dir = mkdtempSync(join(tmpdir(), 'olly-gw-adm-'));
  const real = await createEmbeddedBus({ dir, defaultPartitions: 1 });
  await real.ensureTopics(['traces', 'logs', 'metrics'].map((name) => ({ name, partitions: 1, retentionMs: 3_600_000 })));
  let gate: Promise<void> | null = null;
  const waiting: Array<() => void> = [];
  const bus: Bus = Object.create(real, {
    produce: {
      value: async (topic: string, records: Parameters<Bus['produce']>[1]) => {
        for (const w of waiting.splice(0)) w();
        if (gate) await gate;
        return real.produce(topic, records);
      },
    },
  });
  const keys = new StaticKeyResolver();
  for (const [tenant, key] of Object.entries(KEYS)) keys.add(key, tenant);
  const registry = createRegistry();
  const logger = createLogger('silent', new Writable({ write: (_c, _e, cb) => cb() }));
  const app = createHttpReceiver({ bus, keys, logger, registry, maxRequestBytes: 1024 * 1024, ...options });
  await app.ready();
  let groups = 0;
  return {
    app,
    registry,
    hold() {
      let release!: () => void;
      gate = new Promise<void>((resolve) => {
        release = () => {
          gate = null;
          resolve();
        };
      });
      return { release };
    },
    nextProduce: () => new Promise<void>((resolve) => waiting.push(resolve)),
    async records() {
      const consumer = real.consumer({ groupId: `check-${groups++}`, topics: ['traces'] });
      const all: ConsumedRecord[] = [];
      for (;;) {
        const got = await consumer.poll({ maxRecords: 1000, maxWaitMs: 100 });
        if (got.length === 0) break;
        all.push(...got);
      }
      await consumer.close();
      return all;
    },
    async close() {
      await app.close();
      await real.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The value of one sample line of the Prometheus text, or undefined when absent. */
export function sample(text: string, nameAndLabels: string): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith(`${nameAndLabels} `)) return Number(line.slice(nameAndLabels.length + 1));
  }
  return undefined;
}
