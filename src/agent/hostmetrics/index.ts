/**
 * Host metrics for the agent: CPU, load, memory, swap, disks, filesystems, network, process
 * counts, the agent itself and its cgroup, read from /proc, /sys and cgroup v2 and named after
 * the OpenTelemetry host-metrics semantic conventions.
 */
export { createHostMetricsReceiver, mergeAttributes, SCOPE } from './receiver.ts';
export { collectHostMetrics, type ScrapeFailure, type ScrapeResult } from './collect.ts';
export { createScrapeState, type ScrapeState } from './context.ts';
export { detectHostAttributes } from './host-attributes.ts';
export { DEFAULT_INTERVAL_MS, resolveHostMetricsOptions, type HostMetricsOptions, type Metric } from './options.ts';
