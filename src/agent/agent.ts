/**
 * One agent: receivers → processors → exporter, wired as the architecture draws it.
 *
 *   hostmetrics ─┐               ┌─ metrics → aggregate (window, cardinality) ─┐
 *   filelog ─────┼─→ by signal ──┼─ traces  → sampler (tail, adaptive) ───────┼─→ exporter (disk buffer → OTLP/HTTP)
 *   local OTLP ──┘               └─ logs ──────────────────────────────────────┘
 *
 * Stopping goes the other way: receivers stop taking data, processors flush what they hold,
 * and the exporter closes its buffer (what was not sent yet is sent after the next start).
 */
import path from 'node:path';
import { getHeapStatistics } from 'node:v8';
import type { Config } from '../config/index.ts';
import type { Logger } from '../selfobs/log.ts';
import { createMetricAggregator } from './aggregate/index.ts';
import { createBufferedExporter } from './export/index.ts';
import { createFileLogReceiver } from './filelog/index.ts';
import { createHostMetricsReceiver, detectHostAttributes } from './hostmetrics/index.ts';
import { createMemoryGuard } from './memory-guard.ts';
import { createLocalOtlpReceiver, type LocalOtlpReceiver } from './otlp-receiver.ts';
import { createTraceSampler } from './sampling/index.ts';
import { selfMetrics } from './self-metrics.ts';
import type { Component, ComponentStats, Consumer, Exporter, Processor, Receiver } from './types.ts';

export interface AgentOptions {
  config: Config;
  /** The API key the agent sends with (config apiKey / OLLYSTACK_API_KEY). */
  apiKey: string;
  logger: Logger;
}

export interface AgentStatus {
  startedAt: string;
  endpoint: string;
  dataDir: string;
  /** Local OTLP listeners. */
  otlp: { http?: string; grpc?: string };
  logFiles: string[];
  components: Record<string, ComponentStats>;
  /** process.memoryUsage() now, and the heap limit in force. */
  memory: { rssBytes: number; heapUsedBytes: number; heapTotalBytes: number; externalBytes: number; heapLimitBytes: number };
}

export interface RunningAgent {
  status(): AgentStatus;
  stop(): Promise<void>;
}

export async function startAgent(options: AgentOptions): Promise<RunningAgent> {
  const { config, logger } = options;
  const a = config.agent;
  const dataDir = path.resolve(a.dataDir ?? path.join(config.dataDir, 'agent'));
  const log = (component: string) => {
    const child = logger.child({ component });
    return (line: string) => child.warn(line);
  };
  const startedAt = new Date().toISOString();

  const exporter: Exporter = await createBufferedExporter({
    dir: path.join(dataDir, 'buffer'),
    endpoint: a.endpoint,
    apiKey: options.apiKey,
    capBytes: a.bufferMaxBytes,
    log: log('exporter'),
  });
  const processors: Processor[] = [];
  const receivers: Receiver[] = [];
  const stopAll = async () => {
    for (const r of receivers.reverse()) await r.stop().catch((err) => logger.warn({ err }, `stopping ${r.name}`));
    for (const p of processors) await p.stop().catch((err) => logger.warn({ err }, `stopping ${p.name}`));
    await exporter.stop();
  };

  try {
    const sampler = createTraceSampler({
      next: exporter,
      targetTracesPerSecond: a.sampling.targetTracesPerSecond,
      slowThresholdMs: a.sampling.slowThresholdMs,
      decisionWaitMs: a.sampling.decisionWaitSeconds * 1000,
      maxBufferedSpans: a.sampling.maxBufferedSpans,
      log: log('sampler'),
    });
    const aggregator = createMetricAggregator({
      next: exporter,
      windowMs: a.aggregation.windowSeconds * 1000,
      maxSeriesPerMetric: a.aggregation.maxSeriesPerMetric,
      maxValuesPerAttribute: a.aggregation.maxValuesPerAttribute,
      log: log('aggregate'),
    });
    processors.push(sampler, aggregator);
    // Each signal to its processor; logs need none and go straight to the buffer.
    const routed: Consumer = {
      consume: (batch) => (batch.signal === 'traces' ? sampler : batch.signal === 'metrics' ? aggregator : exporter).consume(batch),
    };
    // Receivers pass the memory guard first: near the heap limit they are refused, and retry.
    const guard = createMemoryGuard({ next: routed, log: log('memory') });
    const bySignal: Consumer = guard;

    const hostAttributes = await detectHostAttributes({});
    const components = (): Component[] => [...receivers, guard, ...processors, exporter];
    if (a.hostMetrics.enabled) {
      receivers.push(
        createHostMetricsReceiver({
          intervalMs: a.hostMetrics.intervalSeconds * 1000,
          selfMetrics: () => selfMetrics(components()),
          log: log('hostmetrics'),
        }),
      );
    }
    if (a.logs.include.length > 0) {
      receivers.push(
        createFileLogReceiver({
          include: a.logs.include,
          exclude: a.logs.exclude,
          startAt: a.logs.startAt,
          multilineStart: a.logs.multilineStart,
          maxLineBytes: a.logs.maxLineBytes,
          // Fuller batches: each costs an fsync, a checkpoint write and a request downstream.
          batchMaxRecords: 2500,
          resourceAttributes: hostAttributes,
          resume: () => exporter.lastCheckpoint('filelog'),
          log: log('filelog'),
        }),
      );
    }
    let otlp: LocalOtlpReceiver | undefined;
    if (a.otlp.httpPort > 0 || a.otlp.grpcPort > 0) {
      otlp = createLocalOtlpReceiver({ ...a.otlp, logger: logger.child({ component: 'otlp' }) });
      receivers.push(otlp);
    }
    for (const r of receivers) await r.start(bySignal);

    return {
      status: () => {
        const mem = process.memoryUsage();
        return {
          startedAt,
          endpoint: a.endpoint,
          dataDir,
          otlp: { ...otlp?.addresses },
          logFiles: a.logs.include,
          components: Object.fromEntries(components().map((c) => [c.name, c.stats()])),
          memory: { rssBytes: mem.rss, heapUsedBytes: mem.heapUsed, heapTotalBytes: mem.heapTotal, externalBytes: mem.external, heapLimitBytes: heapLimitBytes() },
        };
      },
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** The heap limit in force: the supervisor starts the agent under agent.maxHeapMb. */
function heapLimitBytes(): number {
  return getHeapStatistics().heap_size_limit;
}
