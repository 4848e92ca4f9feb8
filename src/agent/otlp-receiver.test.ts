import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { Metadata, credentials, makeGenericClientConstructor, type Client, type ServiceError } from '@grpc/grpc-js';
import { otlpServiceDefinition } from '../gateway/index.ts';
import { encodeRequest, opentelemetry } from '../otlp/index.ts';
import { createLogger } from '../selfobs/log.ts';
import { AgentStartError } from './errors.ts';
import { createLocalOtlpReceiver } from './otlp-receiver.ts';
import type { Telemetry } from './types.ts';

const logger = createLogger('silent');

function traceRequest(spans: number) {
  return {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'checkout' } }] },
        scopeSpans: [{ spans: Array.from({ length: spans }, (_, i) => ({ traceId: Buffer.alloc(16, 1 + i), spanId: Buffer.alloc(8, 1 + i), name: `span ${i}`, startTimeUnixNano: 1, endTimeUnixNano: 2 })) }],
      },
    ],
  };
}

async function takenPort(): Promise<{ server: Server; port: number }> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as { port: number }).port };
}

async function freePort(): Promise<number> {
  const { server, port } = await takenPort();
  await new Promise((r) => server.close(r));
  return port;
}

test('spans sent over OTLP/HTTP and OTLP/gRPC both reach the agent pipeline, decoded and counted', async () => {
  const got: Telemetry[] = [];
  const receiver = createLocalOtlpReceiver({ host: '127.0.0.1', httpPort: await freePort(), grpcPort: await freePort(), logger });
  await receiver.start({ consume: async (t) => void got.push(t) });
  let client: Client | undefined;
  try {
    const body = encodeRequest('traces', traceRequest(3));
    const res = await fetch(`${receiver.addresses.http}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body });
    assert.equal(res.status, 200);

    const Ctor = makeGenericClientConstructor(otlpServiceDefinition('traces'), 'TraceService');
    client = new Ctor(new URL(receiver.addresses.grpc!).host, credentials.createInsecure());
    const exportCall = (client as unknown as { Export(b: Buffer, m: Metadata, cb: (err: ServiceError | null) => void): void }).Export.bind(client);
    const err = await new Promise<ServiceError | null>((resolve) => exportCall(Buffer.from(encodeRequest('traces', traceRequest(2))), new Metadata(), resolve));
    assert.equal(err, null);

    assert.deepEqual(got.map((t) => [t.signal, t.items]), [['traces', 3], ['traces', 2]]);
    const first = got[0].request as opentelemetry.proto.collector.trace.v1.IExportTraceServiceRequest;
    assert.equal(first.resourceSpans![0].scopeSpans![0].spans![2].name, 'span 2');
    assert.deepEqual(receiver.stats(), { requests: 2, spans: 5, logRecords: 0, dataPoints: 0, refused: 0 });
  } finally {
    client?.close();
    await receiver.stop();
  }
});

test('a refusal downstream answers 503 with Retry-After, so the application retries', async () => {
  const receiver = createLocalOtlpReceiver({ host: '127.0.0.1', httpPort: await freePort(), grpcPort: 0, logger });
  await receiver.start({ consume: async () => Promise.reject(new Error('memory guard: over the high-water mark')) });
  try {
    const res = await fetch(`${receiver.addresses.http}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: encodeRequest('traces', traceRequest(1)) });
    assert.equal(res.status, 503);
    assert.equal(res.headers.get('retry-after'), '1');
    assert.equal(receiver.stats().refused, 1);
  } finally {
    await receiver.stop();
  }
});

for (const transport of ['http', 'grpc'] as const) {
  test(`a taken ${transport} port names agent.otlp.${transport}Port, and the other transport is closed again`, async () => {
    const taken = await takenPort();
    const other = await freePort();
    const ports = transport === 'http' ? { httpPort: taken.port, grpcPort: other } : { httpPort: other, grpcPort: taken.port };
    const receiver = createLocalOtlpReceiver({ host: '127.0.0.1', ...ports, logger });
    try {
      await assert.rejects(receiver.start({ consume: async () => {} }), (err: Error) => {
        assert.ok(err instanceof AgentStartError);
        assert.match(err.message, new RegExp(`^agent\\.otlp\\.${transport}Port: port ${taken.port} on 127\\.0\\.0\\.1 is already in use`));
        return true;
      });
      // Nothing is left listening: the free port can be bound again.
      const again = createServer();
      await new Promise<void>((resolve, reject) => again.once('error', reject).listen(other, '127.0.0.1', resolve));
      await new Promise((r) => again.close(r));
    } finally {
      await new Promise((r) => taken.server.close(r));
    }
  });
}
