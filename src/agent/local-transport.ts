/**
 * What the agent's local OTLP servers (HTTP and gRPC) share: where they listen, their limit,
 * where requests go, and how they stop.
 */
import type { IngestResult } from '../gateway/codec.ts';
import type { Logger } from '../selfobs/log.ts';
import type { Signal } from '../telemetry/signals.ts';

export interface LocalTransportOptions {
  host: string;
  /** 0 = any free port (tests). */
  port: number;
  /** Largest request accepted, compressed as sent and again once decompressed. */
  maxRequestBytes: number;
  ingest(signal: Signal, payload: Uint8Array): Promise<IngestResult>;
  logger: Logger;
  /** How long close() lets requests in progress answer before cutting them. Default 5 000 ms. */
  drainTimeoutMs?: number;
}

export interface LocalTransport {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}
