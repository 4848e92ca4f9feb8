/**
 * The agent's pipeline contracts, after the OpenTelemetry Collector: receivers feed processors
 * (sampling, aggregation, cardinality limits) that feed the exporter (OTLP/HTTP to the gateway
 * through a disk buffer). What moves between them is one OTLP Export request of one signal,
 * as plain objects of the generated model, so processors can read and rewrite it; the
 * exporter encodes it once.
 */
import type { ExportRequestPropertiesBySignal } from '../otlp/index.ts';
import type { Signal } from '../telemetry/signals.ts';

/** A receiver's read position, carried with the data it read (see Consumer.consume). */
export interface SourceCheckpoint {
  /** Which receiver wrote it, e.g. 'filelog'. */
  source: string;
  /** The receiver's own serialised state (JSON) once this batch is durable. */
  state: string;
}

interface SignalTelemetry<S extends Signal> {
  signal: S;
  request: ExportRequestPropertiesBySignal[S];
  /** Spans, log records or data points in `request`. */
  items: number;
  /**
   * Present when a receiver must not re-read this data after a restart: the exporter stores it
   * in the same durable write as the data, so data and read position can never disagree.
   */
  checkpoint?: SourceCheckpoint;
}

/** One batch of telemetry moving through the agent. */
export type Telemetry = SignalTelemetry<'traces'> | SignalTelemetry<'metrics'> | SignalTelemetry<'logs'>;
export type TelemetryOf<S extends Signal> = SignalTelemetry<S>;

export interface Consumer {
  /**
   * Takes a batch. Resolves once the batch is in the next component's hands: for the exporter,
   * once it is durable in the disk buffer (or counted as dropped). A rejection means the batch
   * was not taken and the caller still owns it.
   */
  consume(batch: Telemetry): Promise<void>;
}

/** Counters a component reports for `ollystack agent status` and the agent's own metrics. */
export type ComponentStats = Record<string, number>;

export interface Component {
  /** Short name in status output and metric attributes, e.g. 'hostmetrics', 'sampler'. */
  readonly name: string;
  stats(): ComponentStats;
}

export interface Receiver extends Component {
  start(next: Consumer): Promise<void>;
  stop(): Promise<void>;
}

export interface Processor extends Component, Consumer {
  /** Emits anything held (an aggregation window, traces awaiting a decision) downstream. */
  flush(): Promise<void>;
  stop(): Promise<void>;
}

export interface Exporter extends Component, Consumer {
  /** The last checkpoint stored for a source, to resume from after a restart; undefined if none. */
  lastCheckpoint(source: string): Promise<string | undefined>;
  stop(): Promise<void>;
}
