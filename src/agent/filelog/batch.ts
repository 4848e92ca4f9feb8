/** A batch of log records being filled, and the Telemetry it becomes. */
import { basename } from 'node:path';
import { bool, msToNanos, str, type KeyValue, type opentelemetry } from '../../otlp/index.ts';
import type { Telemetry } from '../types.ts';
import type { FileRecord } from './multiline.ts';
import { parseLogLine } from './parse.ts';

type LogRecord = opentelemetry.proto.logs.v1.LogRecord.$Properties;

export const SCOPE_NAME = 'ollystack.agent.filelog';
export const CHECKPOINT_SOURCE = 'filelog';

export class LogBatch {
  readonly records: LogRecord[] = [];
  /** Body bytes, to bound the batch's memory. */
  bytes = 0;
  readonly openedAt: number;

  constructor(openedAt: number) {
    this.openedAt = openedAt;
  }

  add(path: string, record: FileRecord, observedMs: number): void {
    const parsed = parseLogLine(record.text);
    const attributes: KeyValue[] = [str('log.file.path', path), str('log.file.name', basename(path))];
    if (parsed.attributes) attributes.push(...parsed.attributes);
    if (record.truncated) attributes.push(bool('log.record.truncated', true));
    const lr: LogRecord = { observedTimeUnixNano: msToNanos(observedMs), body: { stringValue: parsed.body }, attributes };
    if (parsed.timeUnixMs !== undefined) lr.timeUnixNano = msToNanos(parsed.timeUnixMs);
    if (parsed.severityNumber !== undefined) lr.severityNumber = parsed.severityNumber;
    if (parsed.severityText !== undefined) lr.severityText = parsed.severityText;
    this.records.push(lr);
    this.bytes += record.bytes;
  }

  toTelemetry(resourceAttributes: KeyValue[], state: string): Telemetry {
    return {
      signal: 'logs',
      request: {
        resourceLogs: [{ resource: { attributes: resourceAttributes }, scopeLogs: [{ scope: { name: SCOPE_NAME }, logRecords: this.records }] }],
      },
      items: this.records.length,
      checkpoint: { source: CHECKPOINT_SOURCE, state },
    };
  }
}
