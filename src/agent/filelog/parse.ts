/**
 * Reads what a log line says about itself: JSON lines and logfmt give their message, level,
 * time and other fields; other lines give a level word near the start and a leading
 * timestamp with a zone. A line that says nothing is just a body.
 */
import { bool, dbl, int, str, type KeyValue } from '../../otlp/index.ts';
import { parseLogfmt } from './logfmt.ts';
import { severityFromText, severityFromValue, type Severity } from './severity.ts';

export interface ParsedLine {
  body: string;
  severityNumber?: number;
  severityText?: string;
  timeUnixMs?: number;
  attributes?: KeyValue[];
}

const MESSAGE_KEYS = ['msg', 'message', 'log'];
const LEVEL_KEYS = ['level', 'severity', 'lvl'];
const TIME_KEYS = ['time', 'ts', 'timestamp', '@timestamp'];
/** Fields kept as attributes per record; the rest are dropped (the body still has them). */
export const MAX_PARSED_ATTRIBUTES = 32;

export function parseLogLine(line: string): ParsedLine {
  const trimmed = line.trim();
  if (trimmed.startsWith('{') && trimmed.endsWith('}')) {
    const parsed = parseJsonObject(trimmed);
    if (parsed) return fromFields(line, Object.entries(parsed), true);
  }
  const pairs = parseLogfmt(trimmed);
  if (pairs) return fromFields(line, pairs, false);
  const out: ParsedLine = { body: line };
  const severity = severityFromText(line);
  if (severity) setSeverity(out, severity);
  const time = leadingTimestamp(line);
  if (time !== undefined) out.timeUnixMs = time;
  return out;
}

function parseJsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** JSON takes its body from the message field; logfmt keeps the whole line (its fields are all text). */
function fromFields(line: string, fields: [string, unknown][], bodyFromMessage: boolean): ParsedLine {
  const out: ParsedLine = { body: line };
  const used = new Set<string>();
  const byKey = new Map(fields);
  if (bodyFromMessage) {
    const key = MESSAGE_KEYS.find((k) => byKey.has(k) && byKey.get(k) !== null);
    if (key !== undefined) {
      const msg = byKey.get(key);
      let body = typeof msg === 'string' ? msg : JSON.stringify(msg);
      // Docker's json-file driver keeps the newline the container wrote.
      if (key === 'log' && body.endsWith('\n')) body = body.slice(0, body.endsWith('\r\n') ? -2 : -1);
      out.body = body;
      used.add(key);
    }
  } else {
    for (const k of MESSAGE_KEYS) if (byKey.has(k)) used.add(k);
  }
  for (const k of LEVEL_KEYS) {
    const severity = byKey.has(k) ? severityFromValue(byKey.get(k)) : undefined;
    if (severity) {
      setSeverity(out, severity);
      used.add(k);
      break;
    }
  }
  for (const k of TIME_KEYS) {
    const time = byKey.has(k) ? parseTime(byKey.get(k)) : undefined;
    if (time !== undefined) {
      out.timeUnixMs = time;
      used.add(k);
      break;
    }
  }
  const attributes: KeyValue[] = [];
  for (const [key, value] of fields) {
    if (attributes.length >= MAX_PARSED_ATTRIBUTES) break;
    if (used.has(key)) continue;
    const kv = scalar(key, value);
    if (kv) attributes.push(kv);
  }
  if (attributes.length > 0) out.attributes = attributes;
  return out;
}

function setSeverity(out: ParsedLine, s: Severity): void {
  if (s.severityNumber !== undefined) out.severityNumber = s.severityNumber;
  out.severityText = s.severityText;
}

function scalar(key: string, value: unknown): KeyValue | undefined {
  if (typeof value === 'string') return str(key, value);
  if (typeof value === 'boolean') return bool(key, value);
  if (typeof value === 'number' && Number.isFinite(value)) return Number.isSafeInteger(value) ? int(key, value) : dbl(key, value);
  return undefined;
}

const ISO = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2})?)(?:[.,](\d+))?(Z|[+-]\d{2}(?::?\d{2})?)?$/i;
const LEADING_ISO = /^\[?(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2}))(?=[\s\]]|$)/i;

/** A time field: an ISO 8601 string (no zone = local time), or epoch seconds, ms, µs or ns. */
export function parseTime(value: unknown): number | undefined {
  if (typeof value === 'number') return epochToMs(value);
  if (typeof value !== 'string') return undefined;
  const v = value.trim();
  if (/^\d+(?:\.\d+)?$/.test(v)) return epochToMs(Number(v));
  const m = ISO.exec(v);
  if (!m) return undefined;
  const [, date, clock, fraction = '', zone = ''] = m;
  let offset = zone.toUpperCase();
  if (/^[+-]\d{2}$/.test(offset)) offset += ':00';
  else if (/^[+-]\d{4}$/.test(offset)) offset = `${offset.slice(0, 3)}:${offset.slice(3)}`;
  const ms = Date.parse(`${date}T${clock}${fraction ? '.' + fraction.slice(0, 3).padEnd(3, '0') : ''}${offset}`);
  if (Number.isNaN(ms)) return undefined;
  // Date keeps milliseconds; finer digits (µs, ns) are added back as a fraction.
  return fraction.length > 3 ? ms + Number(`0.${fraction.slice(3, 9)}`) : ms;
}

function epochToMs(n: number): number | undefined {
  if (!Number.isFinite(n) || n <= 0) return undefined;
  if (n < 1e11) return n * 1000;
  if (n < 1e14) return n;
  if (n < 1e17) return n / 1e3;
  return n / 1e6;
}

/** A timestamp at the very start of a free-text line, only when it carries its zone. */
function leadingTimestamp(line: string): number | undefined {
  const m = LEADING_ISO.exec(line);
  return m ? parseTime(m[1]) : undefined;
}
