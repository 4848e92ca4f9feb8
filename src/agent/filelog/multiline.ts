/**
 * Joins lines into records. Without a start pattern every line is a record. With one, a line
 * matching it starts a new record and any other line (a stack frame, a wrapped message) is
 * appended to the current record, up to maxRecordBytes; the rest of an oversized record is
 * dropped and the record marked truncated.
 */
import type { Line } from './line-splitter.ts';
import { cutText } from './utf8.ts';

export interface FileRecord {
  text: string;
  bytes: number;
  truncated: boolean;
  /** File offset just past the record's last line: where reading resumes once it is durable. */
  endOffset: number;
}

export class RecordJoiner {
  private readonly start: RegExp | undefined;
  private readonly maxRecordBytes: number;
  private pending: { parts: string[]; bytes: number; truncated: boolean; endOffset: number } | undefined;

  constructor(start: RegExp | undefined, maxRecordBytes: number) {
    this.start = start;
    this.maxRecordBytes = maxRecordBytes;
  }

  get hasPending(): boolean {
    return this.pending !== undefined;
  }

  /** Takes the next line; returns the record it completed, if any. */
  push(line: Line): FileRecord | undefined {
    if (!this.start) return { text: line.text, bytes: line.bytes, truncated: line.truncated, endOffset: line.endOffset };
    if (this.pending && !this.start.test(line.text)) {
      this.append(line);
      return undefined;
    }
    // A start line, or a continuation with nothing before it (the file began mid-record): a new record.
    const done = this.flush();
    this.pending = { parts: [line.text], bytes: line.bytes, truncated: line.truncated, endOffset: line.endOffset };
    return done;
  }

  /** Emits the record being built (no continuation came in time, or the file is going away). */
  flush(): FileRecord | undefined {
    const p = this.pending;
    if (!p) return undefined;
    this.pending = undefined;
    return { text: p.parts.join('\n'), bytes: p.bytes, truncated: p.truncated, endOffset: p.endOffset };
  }

  reset(): void {
    this.pending = undefined;
  }

  private append(line: Line): void {
    const p = this.pending!;
    p.endOffset = line.endOffset;
    if (line.truncated) p.truncated = true;
    const room = this.maxRecordBytes - p.bytes - 1;
    if (room <= 0) {
      p.truncated = true;
      return;
    }
    if (line.bytes <= room) {
      p.parts.push(line.text);
      p.bytes += line.bytes + 1;
      return;
    }
    const text = cutText(line.text, room);
    p.parts.push(text);
    p.bytes += Buffer.byteLength(text) + 1;
    p.truncated = true;
  }
}
