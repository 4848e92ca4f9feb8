/**
 * Severity filter. `severity=warn` means "warn or worse" (at least that level), as the level
 * filters of Grafana and Datadog do: someone looking for warnings wants the errors too.
 */
export const SEVERITIES = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Lowest OTLP SeverityNumber of each level (TRACE 1-4, DEBUG 5-8, ... FATAL 21-24). */
const MIN_NUMBER: Record<Severity, number> = { trace: 1, debug: 5, info: 9, warn: 13, error: 17, fatal: 21 };

/** Texts of each level, for records that carry a SeverityText but no SeverityNumber. */
const TEXTS: Record<Severity, string[]> = {
  trace: ['TRACE'],
  debug: ['DEBUG'],
  info: ['INFO'],
  warn: ['WARN', 'WARNING'],
  error: ['ERROR'],
  fatal: ['FATAL', 'CRITICAL'],
};

export interface SeverityFilter {
  minNumber: number;
  /** Upper-case texts of this level and above. */
  texts: string[];
}

export function severityFilter(level: Severity): SeverityFilter {
  const from = SEVERITIES.indexOf(level);
  return { minNumber: MIN_NUMBER[level], texts: SEVERITIES.slice(from).flatMap((s) => TEXTS[s]) };
}

export const SEVERITY_SQL = `(SeverityNumber >= {sevMin:UInt8}
  OR (SeverityNumber = 0 AND upper(SeverityText) IN {sevTexts:Array(String)}))`;
