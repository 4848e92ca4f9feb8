/**
 * The agent's local OTLP/gRPC receiver: the gateway's lean node:http2 gRPC server
 * (src/gateway/grpc-h2-server.ts), without API keys or an in-flight budget. One gRPC
 * implementation for the gateway and the agent, and no grpc-js, which would cost the agent
 * about 5 MB of its 100 MB RSS. It must not import grpc-js, Fastify or src/gateway/index.ts,
 * which esbuild would bundle into the agent.
 */
// The codec entry, not index.ts: that one bundles Fastify and grpc-js into the agent.
import { GRPC_STATUS, startGrpcH2Server } from '../gateway/codec.ts';
import type { LocalTransport, LocalTransportOptions } from './local-transport.ts';

export { GRPC_STATUS, OTLP_GRPC_EXPORT_PATHS, percentEncode } from '../gateway/codec.ts';

export interface OtlpGrpcOptions extends LocalTransportOptions {
  /** A call with no traffic for this long is answered DEADLINE_EXCEEDED. Default 30 000 ms. */
  streamIdleTimeoutMs?: number;
}

export type OtlpGrpcReceiver = LocalTransport;

/** Resolves once listening; a taken port rejects with the listen error (code EADDRINUSE). */
export async function startOtlpGrpcReceiver(options: OtlpGrpcOptions): Promise<OtlpGrpcReceiver> {
  const { host, ingest } = options;
  const server = await startGrpcH2Server({
    host,
    port: options.port,
    name: 'local OTLP/gRPC',
    logger: options.logger,
    maxRequestBytes: options.maxRequestBytes,
    streamIdleTimeoutMs: options.streamIdleTimeoutMs,
    drainTimeoutMs: options.drainTimeoutMs ?? 5_000,
    // What the agent has always answered to a call without exactly one message.
    cardinalityCode: GRPC_STATUS.INTERNAL,
    ingest: (_tenant, signal, payload) => ingest(signal, payload),
  });
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${server.port}`,
    port: server.port,
    close: () => server.close(),
  };
}
