/**
 * The ML pipeline: its own consumer group, batch work every few minutes, never on the
 * critical path (its failures never delay alerts or storage). These are its contracts.
 */
import type { TenantId } from '../telemetry/signals.ts';

export interface SeriesPoint {
  timestampMs: number;
  value: number;
}

export interface Anomaly {
  tenant: TenantId;
  series: string;
  timestampMs: number;
  value: number;
  expected: number;
  /** How unusual, in standard deviations of the learned baseline. */
  score: number;
}

/** Learns a baseline per series and flags points far from it. */
export interface AnomalyDetector {
  observe(tenant: TenantId, series: string, points: SeriesPoint[]): Anomaly[];
}

export interface LogPattern {
  template: string;
  count: number;
  sample: string;
}

/** Groups log bodies into templates (the variable parts masked). */
export interface LogPatternMiner {
  add(tenant: TenantId, body: string): void;
  patterns(tenant: TenantId, limit: number): LogPattern[];
}
