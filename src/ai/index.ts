/**
 * The AI engine: automated investigations started by alerts, which gather the telemetry
 * around an incident through the query layer and ask a language model for a summary.
 * This is its contract.
 */
import type { AlertEvent } from '../alerting/index.ts';

export interface Finding {
  title: string;
  detail: string;
  /** Links into the API or UI for the evidence (traces, logs, series). */
  evidence: string[];
}

export interface Investigation {
  alert: AlertEvent;
  startedAt: number;
  findings: Finding[];
  summary: string;
}

export interface Investigator {
  investigate(alert: AlertEvent, signal?: AbortSignal): Promise<Investigation>;
}
