/**
 * A one-line progress bar with rate and ETA for long commands. On a terminal it redraws in
 * place; otherwise (CI, logs) it prints a line at most every `lineEveryMs`.
 */
export interface ProgressOptions {
  total: number;
  unit: string;
  out?: NodeJS.WriteStream | { write(s: string): unknown; isTTY?: boolean };
  lineEveryMs?: number;
  now?: () => number;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--';
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = s % 60;
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : m > 0 ? `${m}m${String(rest).padStart(2, '0')}s` : `${rest}s`;
}

export class ProgressBar {
  readonly #total: number;
  readonly #unit: string;
  readonly #out: NonNullable<ProgressOptions['out']>;
  readonly #lineEveryMs: number;
  readonly #now: () => number;
  readonly #started: number;
  #lastLine = -Infinity;

  constructor(options: ProgressOptions) {
    this.#total = options.total;
    this.#unit = options.unit;
    this.#out = options.out ?? process.stderr;
    this.#lineEveryMs = options.lineEveryMs ?? 5000;
    this.#now = options.now ?? Date.now;
    this.#started = this.#now();
  }

  /** The text of the bar for `done` units, with rate and ETA from the average rate so far. */
  render(done: number): string {
    const fraction = this.#total > 0 ? Math.min(1, done / this.#total) : 1;
    const width = 30;
    const filled = Math.round(fraction * width);
    const elapsed = (this.#now() - this.#started) / 1000;
    const rate = elapsed > 0 ? done / elapsed : 0;
    const eta = rate > 0 ? (this.#total - done) / rate : Infinity;
    const bar = '='.repeat(filled) + (filled < width ? '>' : '') + ' '.repeat(Math.max(0, width - filled - 1));
    return `[${bar}] ${(fraction * 100).toFixed(1).padStart(5)}%  ${done.toLocaleString('en-US')}/${this.#total.toLocaleString('en-US')} ${this.#unit}  ${Math.round(rate).toLocaleString('en-US')}/s  ETA ${fraction >= 1 ? '0s' : formatDuration(eta)}`;
  }

  update(done: number): void {
    if (this.#out.isTTY) {
      this.#out.write(`\r${this.render(done)}\x1b[K`);
      return;
    }
    const now = this.#now();
    if (now - this.#lastLine >= this.#lineEveryMs) {
      this.#lastLine = now;
      this.#out.write(this.render(done) + '\n');
    }
  }

  finish(done: number): void {
    this.#out.write(`${this.#out.isTTY ? '\r' : ''}${this.render(done)}${this.#out.isTTY ? '\x1b[K' : ''}\n`);
  }
}
