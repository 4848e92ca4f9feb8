/**
 * The unified agent (one per host), built like the OpenTelemetry Collector: receivers feed
 * processors (aggregation, sampling, cardinality limits) that feed exporters (OTLP to the
 * gateway, with a disk buffer). These are the pipeline's contracts.
 */
import type { Signal } from '../telemetry/signals.ts';

/** One batch moving through the pipeline: an OTLP Export request of one signal, encoded. */
export interface Batch {
  signal: Signal;
  /** OTLP protobuf bytes of an Export*ServiceRequest. */
  payload: Uint8Array;
  items: number;
}

export interface Consumer {
  consume(batch: Batch): Promise<void>;
}

export interface Receiver {
  start(next: Consumer): Promise<void>;
  stop(): Promise<void>;
}

export interface Processor extends Consumer {
  /** The component the processor hands its output to. */
  readonly next: Consumer;
}

export interface Exporter extends Consumer {
  /** Sends what is buffered; resolves when delivered or safely on disk. */
  flush(): Promise<void>;
}
