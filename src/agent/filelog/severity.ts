/**
 * Severity words as log libraries print them, mapped to OTLP SeverityNumber (TRACE 1, DEBUG 5,
 * INFO 9, WARN 13, ERROR 17, FATAL 21; the steps in between order levels within a range).
 */

const NUMBERS: Record<string, number> = {
  TRACE: 1,
  TRC: 1,
  DEBUG: 5,
  DBG: 5,
  INFO: 9,
  INF: 9,
  NOTICE: 10,
  WARN: 13,
  WARNING: 13,
  WRN: 13,
  ERROR: 17,
  ERR: 17,
  // The API's severity filter counts CRITICAL as fatal, as Python (its top level) and the OTel
  // Python SDK do; syslog's alert and emerg rank above crit.
  CRITICAL: 21,
  CRIT: 21,
  FATAL: 21,
  FTL: 21,
  PANIC: 21,
  ALERT: 22,
  EMERG: 23,
  EMERGENCY: 23,
};

export interface Severity {
  severityNumber?: number;
  severityText: string;
}

/** A level field's value (JSON or logfmt): a level word, or a pino/bunyan number (10 trace .. 60 fatal). */
export function severityFromValue(value: unknown): Severity | undefined {
  if (typeof value === 'string') {
    const text = value.trim().toUpperCase();
    if (text === '') return undefined;
    return { severityNumber: NUMBERS[text], severityText: text };
  }
  if (typeof value === 'number' && Number.isFinite(value) && value >= 10) {
    const step = Math.min(Math.floor(value / 10), 6);
    const text = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'][step - 1];
    return { severityNumber: NUMBERS[text], severityText: text };
  }
  return undefined;
}

const WORD = new RegExp(
  `(?<![A-Za-z0-9_])(${Object.keys(NUMBERS)
    .sort((a, b) => b.length - a.length)
    .join('|')})(?![A-Za-z0-9_])`,
  'gi',
);
/** Only this much of a line is searched: levels are printed near the start. */
const SEARCH_CHARS = 128;
/** A lower-case word counts without a marker only among this many leading words. */
const LEADING_WORDS = 3;
const MARK_BEFORE = '[(<|=';
const MARK_AFTER = '])>:|';

/**
 * The level word near the start of a free-text line. Upper-case words count anywhere in the
 * first 128 characters; other spellings only when marked ("[info]", "warn:", "level=error") or
 * among the first three words (after a timestamp), so "failed with an error" stays unlevelled.
 */
export function severityFromText(line: string): Severity | undefined {
  const head = line.slice(0, SEARCH_CHARS);
  const leadingEnd = leadingWordsEnd(head, LEADING_WORDS);
  WORD.lastIndex = 0;
  for (let m = WORD.exec(head); m; m = WORD.exec(head)) {
    const word = m[1];
    const text = word.toUpperCase();
    const before = head[m.index - 1] ?? '';
    const after = head[m.index + word.length] ?? '';
    const marked = (before !== '' && MARK_BEFORE.includes(before)) || (after !== '' && MARK_AFTER.includes(after));
    if (word === text || marked || m.index < leadingEnd) return { severityNumber: NUMBERS[text], severityText: text };
  }
  return undefined;
}

function leadingWordsEnd(s: string, words: number): number {
  const re = /\S+/g;
  let end = 0;
  for (let i = 0; i < words; i++) {
    const m = re.exec(s);
    if (!m) break;
    end = m.index + m[0].length;
  }
  return end;
}
