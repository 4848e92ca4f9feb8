/**
 * The agent's local OTLP receiver: applications on the host send OTLP/gRPC and OTLP/HTTP to
 * localhost, as they would to a Collector. Both transports are lean servers on node:http and
 * node:http2 (the gateway's Fastify and grpc-js servers would cost the agent 15 MB or more)
 * sharing the gateway's codec (same decompression limits and answers), with a pipeline that
 * hands decoded requests to the agent instead of writing to a bus, and no API key required:
 * the agent sends with its own key.
 */
// The codec entry, not index.ts: that one bundles Fastify into the agent.
import { IngestError, type IngestPipeline } from '../gateway/codec.ts';
import { countItems, decodeRequest, OtlpDecodeError } from '../otlp/index.ts';
import type { Logger } from '../selfobs/log.ts';
import type { Signal } from '../telemetry/signals.ts';
import type { Consumer, Receiver, Telemetry } from './types.ts';
import { AgentStartError } from './errors.ts';
import { startOtlpHttpReceiver, type OtlpHttpReceiver } from './otlp-http.ts';
import { startOtlpGrpcReceiver, type OtlpGrpcReceiver } from './otlp-grpc.ts';

export interface LocalOtlpOptions {
  host: string;
  /** 0 = OTLP/HTTP off. */
  httpPort: number;
  /** 0 = OTLP/gRPC off. */
  grpcPort: number;
  logger: Logger;
  /** Largest request, compressed and decompressed. Default 16 MiB. */
  maxRequestBytes?: number;
}

/** Requests are attributed to this tenant locally; the gateway replaces it with the agent key's. */
const LOCAL_TENANT = 'local';

export interface LocalOtlpReceiver extends Receiver {
  /** Where it listens once started (for logs and tests). */
  readonly addresses: { http?: string; grpc?: string };
}

export function createLocalOtlpReceiver(options: LocalOtlpOptions): LocalOtlpReceiver {
  const stats = { requests: 0, spans: 0, logRecords: 0, dataPoints: 0, refused: 0 };
  const addresses: { http?: string; grpc?: string } = {};
  let http: OtlpHttpReceiver | undefined;
  let grpc: OtlpGrpcReceiver | undefined;
  const maxRequestBytes = options.maxRequestBytes ?? 16 * 1024 * 1024;

  const pipelineTo = (next: Consumer): IngestPipeline => ({
    async ingest(_tenant, signal, payload) {
      let request;
      try {
        request = decodeRequest(signal, payload);
      } catch (err) {
        stats.refused++;
        if (err instanceof OtlpDecodeError) throw new IngestError('invalid', `malformed OTLP payload: ${err.message}`);
        throw err;
      }
      const items = countItems(signal, request);
      stats.requests++;
      if (signal === 'traces') stats.spans += items;
      else if (signal === 'logs') stats.logRecords += items;
      else stats.dataPoints += items;
      try {
        await next.consume({ signal, request, items } as Telemetry);
      } catch (err) {
        stats.refused++;
        options.logger.warn({ err }, 'local OTLP receiver: the pipeline refused a batch');
        throw new IngestError('unavailable', 'the agent cannot take data right now; retry', 1);
      }
      return { accepted: items, rejected: 0, message: '' };
    },
  });

  return {
    name: 'otlp',
    addresses,
    stats: () => ({ ...stats }),
    async start(next) {
      const pipeline = pipelineTo(next);
      const { logger } = options;
      const ingest = (signal: Signal, payload: Uint8Array) => pipeline.ingest(LOCAL_TENANT, signal, payload);
      let starting: Transport = 'http';
      try {
        if (options.httpPort > 0) {
          http = await startOtlpHttpReceiver({ host: options.host, port: options.httpPort, maxRequestBytes, ingest, logger });
          addresses.http = http.url;
        }
        starting = 'grpc';
        if (options.grpcPort > 0) {
          grpc = await startOtlpGrpcReceiver({ host: options.host, port: options.grpcPort, maxRequestBytes, ingest, logger });
          addresses.grpc = grpc.url;
        }
      } catch (err) {
        await this.stop();
        throw portError(err, starting, options);
      }
    },
    async stop() {
      await Promise.all([http?.close(), grpc?.close()]);
      http = undefined;
      grpc = undefined;
    },
  };
}

type Transport = 'http' | 'grpc';

/** A taken port names the key to change: the embedded stack on the same host holds 4317/4318. */
function portError(err: unknown, transport: Transport, options: LocalOtlpOptions): unknown {
  if ((err as { code?: string }).code !== 'EADDRINUSE') return err;
  const grpc = transport === 'grpc';
  const [key, port, env] = grpc
    ? ['agent.otlp.grpcPort', options.grpcPort, 'OLLYSTACK_AGENT__OTLP__GRPC_PORT']
    : ['agent.otlp.httpPort', options.httpPort, 'OLLYSTACK_AGENT__OTLP__HTTP_PORT'];
  return new AgentStartError(
    `${key}: port ${port} on ${options.host} is already in use (an OllyStack gateway or another collector on this host?). ` +
      `Set ${key} (or ${env}) to a free port, or to 0 to turn the agent's local OTLP ${grpc ? 'gRPC' : 'HTTP'} receiver off.`,
  );
}
