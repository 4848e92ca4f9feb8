import { loadConfig } from '../config/index.ts';
import { createLogger, createRegistry } from '../selfobs/index.ts';
import { GroupHasMembersError, type Bus } from '../bus/index.ts';
import { REPLAYABLE_GROUPS, openBus, openStore, planReplay, replayProgress, restoreAfterReplay, rewindGroup, startGroupConsumer, type ReplayableGroup, type ReplayPlan } from '../stack/index.ts';
import { SIGNALS } from '../telemetry/index.ts';
import { CliError } from './errors.ts';
import { ProgressBar, formatDuration } from './progress.ts';

export interface ReplayCliOptions {
  topic: string;
  group: string;
  from?: string;
  offset?: string;
  to?: string;
  config?: string;
  dataDir?: string;
  bus?: string;
  store?: string;
  wait?: string;
}

/**
 * Rewinds once the group has no live member. Members stopped cleanly leave at once; one
 * killed without a clean stop stays until the broker's session timeout drops it, so a replay
 * started right after waits a little rather than failing.
 */
async function rewindWhenEmpty(bus: Bus, plan: ReplayPlan, waitSeconds: number): Promise<void> {
  const deadline = Date.now() + waitSeconds * 1000;
  let told = false;
  for (;;) {
    try {
      await rewindGroup(bus, plan);
      return;
    } catch (err) {
      const message = (err as Error).message;
      if (!(err instanceof GroupHasMembersError) || Date.now() >= deadline) {
        throw new CliError(`--group: cannot rewind '${plan.group}': ${message}. Stop the group's processes first, then replay.`);
      }
      if (!told) {
        process.stderr.write(`replay: group '${plan.group}' still has live members; waiting up to ${waitSeconds} s for them to leave (stop its processes)\n`);
        told = true;
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

/** An ISO 8601 time (2026-11-20T00:00:00Z), or Unix milliseconds. */
export function parseTime(flag: string, raw: string): number {
  const ms = /^\d+$/.test(raw) ? Number(raw) : Date.parse(raw);
  if (!Number.isFinite(ms)) throw new CliError(`--${flag}: expected an ISO 8601 time like 2026-11-20T00:00:00Z or Unix milliseconds, got '${raw}'`);
  return ms;
}

export async function runReplayCommand(options: ReplayCliOptions): Promise<void> {
  if (!(SIGNALS as readonly string[]).includes(options.topic)) throw new CliError(`--topic: expected one of ${SIGNALS.join(', ')}, got '${options.topic}'`);
  if (!(REPLAYABLE_GROUPS as readonly string[]).includes(options.group)) throw new CliError(`--group: expected one of ${REPLAYABLE_GROUPS.join(', ')}, got '${options.group}'`);
  if ((options.from === undefined) === (options.offset === undefined)) throw new CliError('--from or --offset: give exactly one start');
  let fromOffset: number | undefined;
  if (options.offset !== undefined) {
    fromOffset = Number(options.offset);
    if (!Number.isInteger(fromOffset) || fromOffset < 0) throw new CliError(`--offset: expected a non-negative integer, got '${options.offset}'`);
  }
  const fromTime = options.from === undefined ? undefined : parseTime('from', options.from);
  const toTime = options.to === undefined ? undefined : parseTime('to', options.to);
  if (toTime !== undefined && fromTime !== undefined && toTime <= fromTime) throw new CliError('--to: must be after --from');

  const waitSeconds = options.wait === undefined ? 60 : Number(options.wait);
  if (!Number.isFinite(waitSeconds) || waitSeconds < 0) throw new CliError(`--wait: expected a number of seconds, got '${options.wait}'`);

  const config = loadConfig({ file: options.config, overrides: { dataDir: options.dataDir, 'bus.url': options.bus, 'store.url': options.store, 'log.level': 'warn' } });
  const logger = createLogger(config.log.level).child({ component: 'replay' });
  const group = options.group as ReplayableGroup;
  const bus = await openBus(config, logger, 'ollystack-replay');
  try {
    const plan = await planReplay(bus, { topic: options.topic, group, fromTime, fromOffset, toTime });
    const out = process.stderr;
    out.write(`replay: group '${group}' on topic '${options.topic}', ${plan.partitions.length} partitions, ${plan.total.toLocaleString('en-US')} records to consume again\n`);
    if (plan.total === 0) {
      out.write('replay: nothing to do (no records in that range)\n');
      return;
    }
    await rewindWhenEmpty(bus, plan, waitSeconds);
    const store = await openStore(config, logger);
    const started = Date.now();
    const bar = new ProgressBar({ total: plan.total, unit: 'records' });
    const running = await startGroupConsumer(group, { config, bus, store, logger, registry: createRegistry() });
    let done = 0;
    try {
      for (;;) {
        const progress = await replayProgress(bus, plan);
        done = progress.done;
        if (progress.finished) break;
        bar.update(done);
        await new Promise((r) => setTimeout(r, 500));
      }
    } finally {
      await running.close();
      await store.close();
    }
    bar.finish(done);
    const restored = await restoreAfterReplay(bus, plan);
    out.write(`replay: done in ${formatDuration((Date.now() - started) / 1000)}${restored.length ? `; ${restored.length} partition(s) returned to their position before the replay` : ''}\n`);
  } finally {
    await bus.close();
  }
}
