/**
 * The per-item limits the gateway enforces (config `gateway.limits`), declared here so the
 * validator does not depend on the config component; the config's object has this shape.
 */
export interface ValidationLimits {
  /** KeyValues on one span, event, link, log record, data point, exemplar, scope or resource. */
  maxAttributesPerItem: number;
  /** A longer string attribute value is cut (UTF-8 safe) to at most this many bytes, marker included. */
  maxAttributeValueBytes: number;
  /** AnyValue nesting: an attribute holding a plain value is depth 1, an array of strings depth 2. */
  maxAttributeDepth: number;
  maxEventsPerSpan: number;
  maxLinksPerSpan: number;
  maxPastHours: number;
  maxFutureMinutes: number;
}

/** The window of acceptable item timestamps, in Unix nanoseconds (as doubles: ~256 ns precision, plenty for an hours-wide window). */
export interface TimeWindow {
  nowNs: number;
  minNs: number;
  maxNs: number;
}

export function timeWindow(limits: ValidationLimits, nowMs: number): TimeWindow {
  return {
    nowNs: nowMs * 1e6,
    minNs: (nowMs - limits.maxPastHours * 3_600_000) * 1e6,
    maxNs: (nowMs + limits.maxFutureMinutes * 60_000) * 1e6,
  };
}
