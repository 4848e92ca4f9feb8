/**
 * Committed consumer-group offsets, one JSON file per group in `<dir>/groups/`, replaced
 * atomically (temp + fsync + rename + dir fsync). Commits that arrive while a write is in
 * flight are coalesced into the next write, so a busy group costs at most one write at a time.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { CommittedOffset, TopicPartition } from '../types.ts';
import { writeFileAtomic } from './fs-util.ts';

interface GroupFile {
  groupId: string;
  offsets: Array<{ topic: string; partition: number; offset: number; metadata?: string }>;
}

class GroupOffsets {
  readonly groupId: string;
  readonly file: string;
  readonly offsets = new Map<string, CommittedOffset>();
  private writing: Promise<void> | null = null;
  private queued: Promise<void> | null = null;

  constructor(groupId: string, file: string) {
    this.groupId = groupId;
    this.file = file;
  }

  /** Resolves once a write that started after this call has completed. */
  persist(): Promise<void> {
    if (this.queued !== null) return this.queued;
    if (this.writing === null) return this.startWrite();
    const queued = this.writing.then(
      () => this.startWrite(),
      () => this.startWrite(),
    );
    this.queued = queued;
    return queued;
  }

  /** Settles when no write is in flight or queued. */
  async idle(): Promise<void> {
    while (this.queued !== null || this.writing !== null) {
      await (this.queued ?? this.writing)!.catch(() => undefined);
    }
  }

  private startWrite(): Promise<void> {
    this.queued = null;
    const w = writeFileAtomic(this.file, this.serialize());
    this.writing = w;
    const clear = () => {
      if (this.writing === w) this.writing = null;
    };
    w.then(clear, clear);
    return w;
  }

  private serialize(): string {
    const body: GroupFile = { groupId: this.groupId, offsets: [...this.offsets.values()] };
    return JSON.stringify(body);
  }
}

export function tpKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

export class OffsetStore {
  private readonly dir: string;
  private readonly groups = new Map<string, GroupOffsets>();

  private constructor(dir: string) {
    this.dir = dir;
  }

  static open(dir: string): OffsetStore {
    fs.mkdirSync(dir, { recursive: true });
    const store = new OffsetStore(dir);
    for (const name of fs.readdirSync(dir)) {
      if (!name.endsWith('.json')) continue;
      const file = path.join(dir, name);
      let parsed: GroupFile;
      try {
        parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as GroupFile;
      } catch (err) {
        throw new Error(`bus: cannot read committed offsets file ${file}: ${(err as Error).message}`, { cause: err });
      }
      if (typeof parsed.groupId !== 'string' || !Array.isArray(parsed.offsets)) {
        throw new Error(`bus: committed offsets file ${file} lacks groupId/offsets`);
      }
      const group = store.group(parsed.groupId);
      for (const o of parsed.offsets) group.offsets.set(tpKey(o.topic, o.partition), o);
    }
    return store;
  }

  private group(groupId: string): GroupOffsets {
    let g = this.groups.get(groupId);
    if (g === undefined) {
      g = new GroupOffsets(groupId, path.join(this.dir, `${encodeURIComponent(groupId)}.json`));
      this.groups.set(groupId, g);
    }
    return g;
  }

  get(groupId: string, tp: TopicPartition): CommittedOffset | null {
    const o = this.groups.get(groupId)?.offsets.get(tpKey(tp.topic, tp.partition));
    return o === undefined ? null : { ...o };
  }

  /** Updates the group's offsets in memory and resolves once they are durable. */
  commit(groupId: string, offsets: CommittedOffset[]): Promise<void> {
    const group = this.group(groupId);
    for (const o of offsets) {
      const entry: CommittedOffset = { topic: o.topic, partition: o.partition, offset: o.offset };
      if (o.metadata !== undefined) entry.metadata = o.metadata;
      group.offsets.set(tpKey(o.topic, o.partition), entry);
    }
    return group.persist();
  }

  /** Waits for writes in flight (used by close). */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.groups.values()].map((g) => g.idle()));
  }
}
