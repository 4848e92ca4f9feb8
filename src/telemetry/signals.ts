/** The three telemetry signals, named as OTLP names them and as their bus topics are named. */
export type Signal = 'traces' | 'metrics' | 'logs';
export const SIGNALS: readonly Signal[] = ['traces', 'metrics', 'logs'];

/** OTLP/HTTP paths per signal. */
export const OTLP_HTTP_PATHS: Record<Signal, string> = {
  traces: '/v1/traces',
  metrics: '/v1/metrics',
  logs: '/v1/logs',
};

export type TenantId = string;
