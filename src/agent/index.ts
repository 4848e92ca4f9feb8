/**
 * The unified agent (one per host), built like the OpenTelemetry Collector: receivers feed
 * processors (aggregation, sampling, cardinality limits) that feed the exporter (OTLP to the
 * gateway, through a disk buffer).
 */
export type * from './types.ts';
export { startAgent, type AgentOptions, type AgentStatus, type RunningAgent } from './agent.ts';
export { ensureHeapLimit, type HeapLimitState } from './heap-limit.ts';
export { runAgentProcess, type AgentProcessOptions, type RunningAgentProcess } from './run.ts';
export { fetchAgentStatus, startStatusServer } from './status-server.ts';
export { AgentStartError } from './errors.ts';
export { SELF_METRIC } from './self-metrics.ts';
export { createMetricAggregator, type AggregatorOptions } from './aggregate/index.ts';
export { createHostMetricsReceiver, detectHostAttributes, type HostMetricsOptions } from './hostmetrics/index.ts';
