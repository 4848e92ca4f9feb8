/**
 * The log-file receiver: polls its globs, tails every matched file through rotations and
 * truncations, and sends batches of log records one at a time. Each batch carries the
 * positions of all tracked files as they stand once it is durable; positions only advance when
 * consume() resolves, so after a crash the agent resumes from the stored checkpoint and no line
 * is lost or sent twice.
 *
 * One loop does everything (glob, stat, read, send) in order, so reads wait while a batch is
 * being sent: the exporter's pace is the receiver's pace, and memory stays bounded by one
 * batch, one read buffer and one unfinished line and record per file.
 */
import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { ComponentStats, Consumer, Receiver } from '../types.ts';
import { LogBatch } from './batch.ts';
import { decodeCheckpoint, encodeCheckpoint, type FilePosition } from './checkpoint.ts';
import { fileKey, prefixMatches, readPrefix, type Fingerprint } from './fingerprint.ts';
import { compileGlob, findFiles, type GlobMatcher } from './glob.ts';
import type { FileRecord } from './multiline.ts';
import { resolveFileLogOptions, type FileLogOptions, type ResolvedFileLogOptions } from './options.ts';
import { TrackedFile, type EmitRecord, type TailSettings } from './tracked-file.ts';

/** Idle and batch timers run on a monotonic clock; the `now` option only stamps observed times. */
const monotonic = (): number => performance.now();

const READ_CHUNK_BYTES = 64 * 1024;
/** Most bytes read from one file per poll, so one busy file cannot starve the others. */
const READ_BUDGET_BYTES = 8 * 1024 * 1024;
/** A copy is recognised by its first bytes only when there are enough of them to be distinctive. */
const MIN_COPY_FINGERPRINT_BYTES = 64;
/** Rotated siblings looked at when searching for a file's old content (app.log.1, app.log-2025...). */
const MAX_SIBLINGS = 64;
const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 5000;

interface Seen {
  path: string;
  dev: bigint;
  ino: bigint;
  size: number;
  mtimeNs: bigint;
}

/**
 * Content a tracked file no longer holds at its offset (it was truncated, or it is a checkpoint
 * entry whose file is not where it was): maybe a copy or a renamed file has it.
 */
interface LostContent {
  key: string;
  path: string;
  fingerprint: Fingerprint;
  offset: number;
  /** Records read but not yet emitted before the truncation; emitted if no copy turns up. */
  leftovers: FileRecord[];
  claimed: boolean;
}

export class FileLogReceiver implements Receiver {
  readonly name = 'filelog';
  private readonly opts: ResolvedFileLogOptions;
  private readonly excludes: GlobMatcher[];
  private readonly files = new Map<string, TrackedFile>();
  private readonly settings: TailSettings;
  private readonly buffer = Buffer.alloc(READ_CHUNK_BYTES);
  private readonly counters = { linesRead: 0, bytesRead: 0, decodeErrors: 0, truncatedLines: 0, recordsEmitted: 0, batchesSent: 0, consumeFailures: 0, rotations: 0, truncations: 0, deletions: 0 };
  private next: Consumer | undefined;
  private batch: LogBatch;
  /** Checkpoint entries not yet matched to a file (until the first poll after start). */
  private resumeFrom: Map<string, FilePosition> | undefined;
  private firstRun = true;
  private firstPoll = true;
  private lost: LostContent[] = [];
  private stopping = false;
  /** A batch was given up at stop: nothing later may be sent, or its checkpoint would skip it. */
  private abandoned = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private readonly reported = new Set<string>();

  constructor(options: FileLogOptions) {
    this.opts = resolveFileLogOptions(options);
    this.excludes = this.opts.exclude.map(compileGlob);
    this.settings = {
      maxLineBytes: this.opts.maxLineBytes,
      maxRecordBytes: this.opts.maxRecordBytes,
      multilineStart: this.opts.multilineStart,
      counters: this.counters,
      now: monotonic,
    };
    this.batch = new LogBatch(monotonic());
  }

  stats(): ComponentStats {
    const c = this.counters;
    let open = 0;
    let tracked = 0;
    for (const f of this.files.values()) {
      if (f.handle) open++;
      if (!f.done) tracked++;
    }
    return {
      filesTracked: tracked,
      filesOpen: open,
      linesRead: c.linesRead,
      bytesRead: c.bytesRead,
      recordsEmitted: c.recordsEmitted,
      batchesSent: c.batchesSent,
      consumeFailures: c.consumeFailures,
      truncatedLines: c.truncatedLines,
      rotations: c.rotations,
      truncations: c.truncations,
      deletions: c.deletions,
      decodeErrors: c.decodeErrors,
    };
  }

  /** Resumes from the stored checkpoint, takes the first look at the files, then polls. */
  async start(next: Consumer): Promise<void> {
    if (this.next) throw new Error('filelog: start() was already called');
    this.next = next;
    const saved = await this.opts.resume();
    if (saved !== undefined) {
      const state = decodeCheckpoint(saved);
      this.resumeFrom = new Map(state.files.map((f) => [`${f.dev}:${f.ino}`, f]));
      this.firstRun = false;
    }
    // Only the first look here (it fixes where startAt 'end' starts); reading and sending
    // happen in the loop, so start() never waits on the pipeline.
    try {
      await this.discover();
    } catch (err) {
      this.report('poll', `filelog: poll failed: ${(err as Error).message}`);
    }
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.loop;
    await Promise.all([...this.files.values()].map((f) => f.close()));
  }

  private async run(): Promise<void> {
    // The very first start: store where reading begins (the ends of the files, with startAt
    // 'end') before anything is read, or a crash before the first batch would start from the
    // new ends next time and skip the lines written in between.
    if (this.firstRun && this.files.size > 0) await this.sendBatch(true);
    let backlog = await this.poll(false);
    while (!this.stopping) {
      // With bytes left unread (the per-poll budget ran out) the next poll comes at once.
      await this.sleep(backlog ? 0 : this.opts.pollIntervalMs);
      if (this.stopping) break;
      backlog = await this.poll(true);
    }
    // What is held unfinished (a partial line, a pending record) is not sent: the checkpoint
    // stops before it, so the next run reads it again whole.
    if (!this.abandoned) await this.sendBatch();
  }

  /** One round: discover, read every file, send the batch if it is due. True when bytes were left unread. */
  private async poll(discover: boolean): Promise<boolean> {
    let backlog = false;
    try {
      if (discover) await this.discover();
      for (const f of this.files.values()) {
        if (this.stopping) return false;
        if (await this.tail(f)) backlog = true;
      }
      this.forgetFinished();
      if (this.batch.records.length > 0 && monotonic() - this.batch.openedAt >= this.opts.batchMaxWaitMs) await this.sendBatch();
      this.reported.delete('poll');
    } catch (err) {
      this.report('poll', `filelog: poll failed: ${(err as Error).message}`);
    }
    return backlog;
  }

  /** Globs, then matches what it finds to tracked files, checkpoint entries and lost content. */
  private async discover(): Promise<void> {
    const seen = await this.statMatches();
    for (const f of this.files.values()) {
      const s = seen.get(f.key);
      const wasMatched = f.matched;
      f.matched = s !== undefined;
      if (s) {
        // Renamed to another name the globs match (app.log -> app.log.1 under app.log*).
        if (s.path !== f.path && wasMatched) this.counters.rotations++;
        f.path = s.path;
        f.done = false;
      }
      try {
        if (f.handle) await this.checkOpen(f, wasMatched);
        else if (s) await this.checkClosed(f, s);
        // A closed file that left the globs was fully read when it was closed.
        else f.done = true;
      } catch (err) {
        this.report(`check ${f.key}`, `filelog: cannot read ${f.path}: ${(err as Error).message}`);
      }
    }
    if (this.resumeFrom) {
      for (const entry of this.resumeFrom.values()) {
        this.lost.push({ key: `${entry.dev}:${entry.ino}`, path: entry.path, fingerprint: entry.fingerprint, offset: entry.offset, leftovers: [], claimed: false });
      }
      this.resumeFrom = undefined;
    }
    const fresh = [...seen.values()].filter((s) => !this.files.has(fileKey(s.dev, s.ino)));
    // Files the checkpoint knows by inode first, so a copy elsewhere cannot claim their content.
    fresh.sort((a, b) => Number(this.lostByKey(b) !== undefined) - Number(this.lostByKey(a) !== undefined));
    for (const s of fresh) {
      try {
        await this.track(s);
      } catch (err) {
        this.report(`open ${s.path}`, `filelog: cannot open ${s.path}: ${(err as Error).message}`);
      }
    }
    await this.recoverLost();
    this.firstPoll = false;
  }

  private async statMatches(): Promise<Map<string, Seen>> {
    const seen = new Map<string, Seen>();
    for (const path of await findFiles(this.opts.include, this.excludes)) {
      try {
        const st = await stat(path, { bigint: true });
        const key = fileKey(st.dev, st.ino);
        if (!seen.has(key)) seen.set(key, { path, dev: st.dev, ino: st.ino, size: Number(st.size), mtimeNs: st.mtimeNs });
      } catch {
        // Gone between the glob and the stat: the next poll sees what replaced it.
      }
    }
    return seen;
  }

  private async checkOpen(f: TrackedFile, wasMatched: boolean): Promise<void> {
    if (await f.check()) {
      this.counters.truncations++;
      this.opts.log(`filelog: ${f.path} was truncated; reading it again from the start`);
      // The old content's identity and durable end, taken before restart() forgets them; the
      // empty key means only a copy under a rotated name can claim it.
      const old = { key: '', path: f.path, fingerprint: f.fingerprint, offset: f.emittedOffset, claimed: false };
      this.lost.push({ ...old, leftovers: f.restart() });
      await f.check();
    }
    if (wasMatched && !f.matched) {
      if (f.deleted) this.counters.deletions++;
      else this.counters.rotations++;
    }
  }

  /** A file let go earlier that is matched again: reopen it if it changed. */
  private async checkClosed(f: TrackedFile, s: Seen): Promise<void> {
    if (s.size === f.lastSize && s.mtimeNs === f.lastMtimeNs) return;
    if (!(await this.makeRoom(f.path))) return;
    if (await f.reopen()) await f.check();
    // Another file has its inode now; the old one was read to its end before it was let go.
    else this.files.delete(f.key);
  }

  private async track(s: Seen): Promise<void> {
    if (!(await this.makeRoom(s.path))) return;
    const f = await TrackedFile.openAt(s.path, s, this.settings);
    if (!f) return;
    try {
      const prefix = await readPrefix(f.handle!);
      const size = Number((await f.handle!.stat()).size);
      let offset = 0;
      const own = this.lostByKey(s);
      const copy = own ? undefined : this.lost.find((l) => !l.claimed && isRotatedName(l.path, s.path) && l.fingerprint.length >= MIN_COPY_FINGERPRINT_BYTES && size >= l.offset && prefixMatches(l.fingerprint, prefix));
      if (own && prefixMatches(own.fingerprint, prefix) && size >= own.offset) {
        own.claimed = true;
        offset = own.offset;
      } else if (copy) {
        copy.claimed = true;
        offset = copy.offset;
      } else if (this.firstPoll && this.firstRun && this.opts.startAt === 'end') {
        offset = size;
      }
      // Otherwise a new file (or its content changed while the agent was down): all of it.
      f.startAt(offset, prefix);
      await f.check();
      this.files.set(f.key, f);
    } catch (err) {
      await f.close();
      throw err;
    }
  }

  private lostByKey(s: Seen): LostContent | undefined {
    const key = fileKey(s.dev, s.ino);
    return this.lost.find((l) => !l.claimed && l.key === key);
  }

  /**
   * Lost content no matched file claimed: look for it beside its old path under a rotated name
   * (renamed while the agent was down, or the copy of a copy-truncate) and read the rest of it.
   * What no file has is gone; records held from before a truncation are emitted as they are.
   */
  private async recoverLost(): Promise<void> {
    const lost = this.lost;
    this.lost = [];
    for (const l of lost) {
      if (l.claimed) continue;
      const found = await this.findSibling(l).catch(() => undefined);
      if (found) {
        this.files.set(found.key, found);
        continue;
      }
      for (const record of l.leftovers) {
        const sending = this.emit(l.path, record);
        if (sending) await sending;
      }
    }
  }

  private async findSibling(l: LostContent): Promise<TrackedFile | undefined> {
    const dir = dirname(l.path);
    const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => isRotatedName(l.path, join(dir, n))).sort().slice(0, MAX_SIBLINGS);
    for (const name of names) {
      const path = join(dir, name);
      const st = await stat(path, { bigint: true }).catch(() => undefined);
      if (!st?.isFile() || Number(st.size) <= l.offset) continue;
      const key = fileKey(st.dev, st.ino);
      if (this.files.has(key)) continue;
      if (key !== l.key && l.fingerprint.length < MIN_COPY_FINGERPRINT_BYTES) continue;
      if (!(await this.makeRoom(path))) return undefined;
      const f = await TrackedFile.openAt(path, st, this.settings);
      if (!f) continue;
      const prefix = await readPrefix(f.handle!);
      if (!prefixMatches(l.fingerprint, prefix)) {
        await f.close();
        continue;
      }
      this.opts.log(`filelog: reading the rest of ${l.path} from ${path}`);
      f.startAt(l.offset, prefix);
      f.path = l.path;
      f.matched = false;
      await f.check();
      return f;
    }
    return undefined;
  }

  /**
   * Reads what the file has, then applies the idle rules: flush a partial line, let go of a
   * rotated file. True when the read budget ran out before the end.
   */
  private async tail(f: TrackedFile): Promise<boolean> {
    if (!f.handle) return false;
    try {
      await f.read(this.buffer, READ_BUDGET_BYTES, this.emit);
      if (!f.drained) return true;
      const now = monotonic();
      const idle = now - f.lastGrowthAt >= this.opts.idleMs;
      if (f.deleted || (!f.matched && idle)) {
        // Deleted: nothing more can come. Rotated away: the writer has moved to the new file.
        await f.finish(this.emit);
        return false;
      }
      if (f.hasPartialLine && idle) await f.flushPartialLine(this.emit);
      if (f.hasPendingRecord && !f.hasPartialLine && now - f.lastLineAt >= this.opts.multilineFlushMs) await f.flushPendingRecord(this.emit);
      this.reported.delete(`read ${f.key}`);
    } catch (err) {
      this.report(`read ${f.key}`, `filelog: cannot read ${f.path}: ${(err as Error).message}`);
    }
    return false;
  }

  /** Files let go whose last records are durable leave the checkpoint. */
  private forgetFinished(): void {
    for (const f of this.files.values()) {
      if (f.done && !f.handle && f.committedOffset >= f.emittedOffset) this.files.delete(f.key);
    }
  }

  /** Closes the longest-idle fully read file when maxOpenFiles are open; false if none can go. */
  private async makeRoom(forPath: string): Promise<boolean> {
    let open = 0;
    let idlest: TrackedFile | undefined;
    for (const f of this.files.values()) {
      if (!f.handle) continue;
      open++;
      if (f.matched && !f.deleted && f.drained && !f.holdsData && (!idlest || f.lastGrowthAt < idlest.lastGrowthAt)) idlest = f;
    }
    if (open < this.opts.maxOpenFiles) {
      this.reported.delete('maxOpenFiles');
      return true;
    }
    if (!idlest) {
      this.report('maxOpenFiles', `filelog: ${open} files are open (maxOpenFiles) and all are busy; ${forPath} waits`);
      return false;
    }
    await idlest.close();
    return true;
  }

  private readonly emit: EmitRecord = (path, record) => {
    this.batch.add(path, record, this.opts.now());
    if (this.batch.records.length >= this.opts.batchMaxRecords || this.batch.bytes >= this.opts.batchMaxBytes) return this.sendBatch();
    return undefined;
  };

  private checkpointNow(): { state: string; offsets: Map<string, number> } {
    const positions: FilePosition[] = [];
    const offsets = new Map<string, number>();
    for (const f of this.files.values()) {
      positions.push({ path: f.path, dev: f.dev, ino: f.ino, fingerprint: f.fingerprint, offset: f.emittedOffset });
      offsets.set(f.key, f.emittedOffset);
    }
    return { state: encodeCheckpoint({ files: positions }), offsets };
  }

  /** Sends the current batch, retrying until it is taken; positions advance only then. */
  private async sendBatch(positionsOnly = false): Promise<void> {
    if ((this.batch.records.length === 0 && !positionsOnly) || this.abandoned) return;
    const { state, offsets } = this.checkpointNow();
    const telemetry = this.batch.toTelemetry(this.opts.resourceAttributes, state);
    this.batch = new LogBatch(monotonic());
    for (let attempt = 0; ; attempt++) {
      try {
        await this.next!.consume(telemetry);
        break;
      } catch (err) {
        this.counters.consumeFailures++;
        if (this.stopping) {
          this.abandoned = true;
          this.opts.log(`filelog: stopping with ${telemetry.items} records not taken (${(err as Error).message}); they are read again on the next start`);
          return;
        }
        const delay = Math.min(RETRY_MIN_MS * 2 ** attempt, RETRY_MAX_MS);
        if (attempt === 0) this.opts.log(`filelog: the pipeline refused a batch of ${telemetry.items} records (${(err as Error).message}); retrying`);
        await this.sleep(delay);
      }
    }
    this.counters.recordsEmitted += telemetry.items;
    if (telemetry.items > 0) this.counters.batchesSent++;
    for (const [key, offset] of offsets) {
      const f = this.files.get(key);
      if (f) f.committedOffset = offset;
    }
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopping) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      // Unref'd: a receiver alone does not keep a process alive (the agent has its servers for that).
      const timer = setTimeout(done, ms);
      timer.unref();
      this.wake = done;
    });
  }

  /** Logs a problem once until it clears, so a bad file does not flood the agent's log. */
  private report(key: string, line: string): void {
    if (this.reported.has(key)) return;
    this.reported.add(key);
    this.opts.log(line);
  }
}

/**
 * Whether `candidate` is named like a rotated generation of `original` (app.log.1,
 * app.log-20250115): only those may take over a file's content by fingerprint, so two files
 * that merely start with the same banner are never confused.
 */
function isRotatedName(original: string, candidate: string): boolean {
  if (dirname(original) !== dirname(candidate)) return false;
  const base = basename(original);
  const name = basename(candidate);
  return name !== base && name.startsWith(base);
}

export function createFileLogReceiver(options: FileLogOptions): Receiver {
  return new FileLogReceiver(options);
}
