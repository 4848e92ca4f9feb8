/** /proc/stat: CPU time per state, boot time, and the process counters. */
import { fields, lines, whole } from './proc-files.ts';

/**
 * Ticks per second of the /proc/stat CPU columns. The kernel reports them in USER_HZ, which
 * is 100 on every architecture Node runs on (it is not CONFIG_HZ); reading sysconf(_SC_CLK_TCK)
 * would need a native call or a shell-out for a constant.
 */
export const USER_HZ = 100;

/** The states of system.cpu.time, named as the OpenTelemetry Collector names them. */
export const CPU_STATES = ['user', 'system', 'idle', 'interrupt', 'nice', 'softirq', 'steal', 'wait'] as const;
export type CpuState = (typeof CPU_STATES)[number];
export type CpuTicks = Record<CpuState, number>;

/**
 * The /proc/stat columns in file order. guest and guest_nice (columns 9 and 10) are left out:
 * the kernel already counts them inside user and nice.
 */
const COLUMNS: readonly CpuState[] = ['user', 'nice', 'system', 'idle', 'wait', 'interrupt', 'softirq', 'steal'];

export interface ProcStat {
  /** The "cpu" line: all CPUs together. */
  total: CpuTicks;
  /** The "cpuN" lines: online CPUs only. */
  cpus: { cpu: string; ticks: CpuTicks }[];
  bootTimeSec: number;
  /** Forks since boot. */
  processesCreated: number;
  procsRunning: number;
  procsBlocked: number;
}

const FILE = '/proc/stat';

function cpuTicks(cols: string[]): CpuTicks {
  // Kernels before 2.6.11 lack steal (and before 2.6.0 iowait, irq, softirq): count them as 0.
  if (cols.length < 5) throw new Error(`${FILE}: ${cols[0]} has ${cols.length - 1} columns, expected at least 4`);
  const t = { user: 0, system: 0, idle: 0, interrupt: 0, nice: 0, softirq: 0, steal: 0, wait: 0 };
  COLUMNS.forEach((state, i) => {
    if (cols[i + 1] !== undefined) t[state] = whole(cols[i + 1], FILE, `${cols[0]} ${state}`);
  });
  return t;
}

export function parseProcStat(text: string): ProcStat {
  let total: CpuTicks | undefined;
  const cpus: ProcStat['cpus'] = [];
  const counters = new Map<string, number>();
  for (const line of lines(text)) {
    const cols = fields(line);
    const key = cols[0];
    if (key === 'cpu') total = cpuTicks(cols);
    else if (/^cpu\d+$/.test(key)) cpus.push({ cpu: key, ticks: cpuTicks(cols) });
    else if (key === 'btime' || key === 'processes' || key === 'procs_running' || key === 'procs_blocked') {
      counters.set(key, whole(cols[1], FILE, key));
    }
  }
  if (!total) throw new Error(`${FILE}: no "cpu" line`);
  const counter = (key: string): number => {
    const v = counters.get(key);
    if (v === undefined) throw new Error(`${FILE}: no "${key}" line`);
    return v;
  };
  return {
    total,
    cpus,
    bootTimeSec: counter('btime'),
    processesCreated: counter('processes'),
    procsRunning: counter('procs_running'),
    procsBlocked: counter('procs_blocked'),
  };
}
