import type { TopicSpec } from './types.ts';

const DAY_MS = 24 * 60 * 60 * 1000;

/** The architecture's topics and retention periods. */
export const TOPICS = {
  metrics: 'metrics',
  logs: 'logs',
  traces: 'traces',
  alerts: 'alerts',
} as const;

export const TOPIC_RETENTION_MS: Record<keyof typeof TOPICS, number> = {
  metrics: 7 * DAY_MS,
  logs: 3 * DAY_MS,
  traces: 3 * DAY_MS,
  alerts: 30 * DAY_MS,
};

export function defaultTopicSpecs(partitions: number): TopicSpec[] {
  return (Object.keys(TOPICS) as Array<keyof typeof TOPICS>).map((name) => ({
    name: TOPICS[name],
    partitions,
    retentionMs: TOPIC_RETENTION_MS[name],
  }));
}

/** Header names carried on every telemetry record. */
export const HEADER_TENANT = 'tenant';
export const HEADER_SIGNAL = 'signal';
/** Number of items (spans, log records, data points) in the record, for metering and lag. */
export const HEADER_ITEMS = 'items';
