/**
 * Receivers' checkpoints in `<dir>/checkpoints.json`, replaced atomically (temp file, fsync,
 * rename, folder fsync). A checkpoint is first written in the buffer record of its data, and
 * this file is updated right after, with checkpoint writes serialised: so only the newest
 * record of the buffer can hold a checkpoint the file lacks, and opening looks there too.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { StoredCheckpoint } from './buffer-record.ts';

const FILE = 'checkpoints.json';
const VERSION = 1;

interface FileShape {
  version: number;
  sources: Record<string, { state: string; seq: number }>;
}

export class CheckpointStore {
  private readonly file: string;
  private readonly bySource = new Map<string, StoredCheckpoint>();
  private maxSeq = 0;

  private constructor(file: string) {
    this.file = file;
  }

  static async open(dir: string): Promise<CheckpointStore> {
    const store = new CheckpointStore(path.join(dir, FILE));
    let text: string;
    try {
      text = await fs.promises.readFile(store.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return store;
      throw err;
    }
    let parsed: FileShape;
    try {
      parsed = JSON.parse(text) as FileShape;
      if (parsed === null || typeof parsed !== 'object' || parsed.sources === null || typeof parsed.sources !== 'object') throw new Error('no "sources" object');
    } catch (err) {
      throw new Error(`exporter: unreadable ${store.file} (${(err as Error).message}); move it away to start without checkpoints`, { cause: err });
    }
    for (const [source, c] of Object.entries(parsed.sources)) {
      if (c !== null && typeof c === 'object' && typeof c.state === 'string' && Number.isSafeInteger(c.seq)) {
        store.offer({ source, state: c.state, seq: c.seq });
      }
    }
    return store;
  }

  /** Keeps the checkpoint if it is newer than the one held for its source; true when kept. */
  offer(checkpoint: StoredCheckpoint): boolean {
    if (checkpoint.seq > this.maxSeq) this.maxSeq = checkpoint.seq;
    const held = this.bySource.get(checkpoint.source);
    if (held !== undefined && held.seq >= checkpoint.seq) return false;
    this.bySource.set(checkpoint.source, checkpoint);
    return true;
  }

  get(source: string): StoredCheckpoint | undefined {
    return this.bySource.get(source);
  }

  /** Highest sequence number seen in the file or the buffer; the next checkpoint gets more. */
  get lastSeq(): number {
    return this.maxSeq;
  }

  async persist(): Promise<void> {
    const shape: FileShape = { version: VERSION, sources: {} };
    for (const [source, c] of this.bySource) shape.sources[source] = { state: c.state, seq: c.seq };
    const tmp = `${this.file}.tmp`;
    const fh = await fs.promises.open(tmp, 'w');
    try {
      await fh.writeFile(JSON.stringify(shape));
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fs.promises.rename(tmp, this.file);
    const dirHandle = await fs.promises.open(path.dirname(this.file), 'r');
    try {
      await dirHandle.sync();
    } finally {
      await dirHandle.close();
    }
  }
}
