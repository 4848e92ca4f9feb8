/**
 * Alerting: the real-time processor (its own consumer group on the telemetry topics, rules
 * evaluated in under a second, alert events written to the `alerts` topic) and the alert
 * manager (a consumer of `alerts` that notifies Slack, PagerDuty and webhooks).
 * These are the contracts; the implementations come with the alerting work.
 */
import type { TenantId } from '../telemetry/signals.ts';

export type Comparison = '>' | '>=' | '<' | '<=';

export interface AlertRule {
  id: string;
  tenant: TenantId;
  name: string;
  signal: 'traces' | 'metrics' | 'logs';
  /** What is measured, e.g. error rate of a service, a metric's value, matching log lines. */
  expression: string;
  comparison: Comparison;
  threshold: number;
  /** The condition must hold this long before the alert fires. */
  forSeconds: number;
  labels: Record<string, string>;
}

export interface AlertEvent {
  ruleId: string;
  tenant: TenantId;
  state: 'firing' | 'resolved';
  value: number;
  /** Unix milliseconds of the evaluation that changed the state. */
  at: number;
  labels: Record<string, string>;
  summary: string;
}

/** Sends alert events somewhere a person will see them. */
export interface Notifier {
  readonly kind: 'slack' | 'pagerduty' | 'webhook';
  notify(event: AlertEvent): Promise<void>;
}
