/**
 * The agent's hard memory bound, set by the agent itself: V8's heap limit can only be set
 * when a process starts, so `ollystack agent` replaces its own process image (execve, same
 * PID, same stdio, so service managers and Ctrl-C see one process) with the same command under
 * --max-old-space-size. Past the limit V8 aborts the process instead of letting it grow; the
 * service manager restarts it and it resumes from its disk buffer and checkpoints.
 * One process and one V8 isolate: a supervising parent or a worker thread would each cost
 * another 20 to 45 MB of the agent's 100 MB.
 */
import { getHeapStatistics } from 'node:v8';

/** Set in the environment of the re-executed process, so it never loops. */
const MARKER = 'OLLYSTACK_AGENT_HEAP_LIMITED';

/** Young-generation semi-space size (MB): small, so scavenges stay frequent and cheap. */
const SEMI_SPACE_MB = 2;

/**
 * Highest JIT tier: Maglev, not TurboFan. The agent's hot paths (line splitting, protobuf
 * walks) run as fast on Maglev code here, and without TurboFan its code pages in the Node.js
 * binary and its compile-time memory stay out of RSS: about 5 MB less under load.
 */
const MAX_OPT_TIER = 2;

/**
 * glibc malloc settings for the re-executed agent (kept when the user set them): Buffers live
 * outside the V8 heap, in malloc. With fewer arenas and a fixed mmap threshold, large Buffers
 * (reads, requests, gzip output) are mapped and unmapped on their own instead of fragmenting
 * long-lived arenas, which measured about 20 MB less RSS under load.
 */
const MALLOC_ENV: Record<string, string> = {
  MALLOC_ARENA_MAX: '2',
  MALLOC_MMAP_THRESHOLD_: '131072',
  MALLOC_TRIM_THRESHOLD_: '131072',
};

export interface HeapLimitState {
  /** The heap limit in force now, in MB. */
  limitMb: number;
  /** True when this process runs under the requested limit. */
  applied: boolean;
}

/**
 * Returns when the process already runs under `maxHeapMb`; otherwise re-executes it under that
 * limit and never returns. Where execve is missing (Windows), it returns with applied = false.
 */
export function ensureHeapLimit(maxHeapMb: number): HeapLimitState {
  const limitMb = getHeapStatistics().heap_size_limit / 1024 / 1024;
  if (process.env[MARKER] === String(maxHeapMb)) return { limitMb, applied: true };
  const execve = (process as { execve?: (file: string, args: string[], env: NodeJS.ProcessEnv) => never }).execve;
  if (typeof execve !== 'function') return { limitMb, applied: false };
  const flags = [`--max-old-space-size=${maxHeapMb}`, `--max-semi-space-size=${SEMI_SPACE_MB}`, `--max-opt=${MAX_OPT_TIER}`];
  const ours = ['--max-old-space-size', '--max-semi-space-size', '--max-opt'];
  const inherited = process.execArgv.filter((a) => !ours.some((flag) => a.startsWith(flag)));
  return execve.call(process, process.execPath, [process.execPath, ...flags, ...inherited, ...process.argv.slice(1)], { ...MALLOC_ENV, ...process.env, [MARKER]: String(maxHeapMb) });
}
