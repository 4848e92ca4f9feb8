/**
 * GET /api/v1/usage?from=&to= : the calling tenant's metered usage, per hour and signal.
 *
 *   { "usage":  [ { "hour": "2026-11-27T10:00:00.000Z", "signal": "traces", "events": 123, "bytes": 4567 }, ... ],
 *     "totals": { "traces": { "events": 123, "bytes": 4567 }, "metrics": {...}, "logs": {...} } }
 *
 * `usage` lists the hours that overlap [from, to) and had data, oldest first, signals in name
 * order within an hour; `totals` sums them and always names all three signals. Events are
 * spans, log records and metric data points as received; bytes are the OTLP protobuf sizes on
 * the bus. Hours are UTC; the default range is the last hour, the longest is 366 days.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { tenantOf } from '../auth.ts';
import { badParam } from '../errors.ts';
import { parseQuery, timeParams } from '../params.ts';
import { parseTimeRange } from '../time.ts';
import { createUsageReader } from '../../metering/index.ts';
import type { Store } from '../../storage/index.ts';
import { SIGNALS, type Signal } from '../../telemetry/index.ts';

const Query = z.object({ ...timeParams });

/** A year and a day: at most 8,784 hours x 3 signals rows per answer. */
const MAX_RANGE_NS = 366n * 24n * 3_600_000_000_000n;
const NS_PER_MS = 1_000_000n;

interface Figures {
  events: number;
  bytes: number;
}

export function registerUsageRoute(app: FastifyInstance, store: Store): void {
  const reader = createUsageReader(store);
  app.get('/api/v1/usage', async (request) => {
    const query = parseQuery(Query, request.query);
    const range = parseTimeRange(query.from, query.to);
    if (range.toNs - range.fromNs > MAX_RANGE_NS) throw badParam('from', 'the range from..to must be at most 366 days');
    // Whole milliseconds covering [from, to): hours are compared by their start.
    const fromMs = Number(range.fromNs / NS_PER_MS);
    const toMs = Number((range.toNs + NS_PER_MS - 1n) / NS_PER_MS);
    const rows = await reader.usage(tenantOf(request), fromMs, toMs);
    const totals = Object.fromEntries(SIGNALS.map((s) => [s, { events: 0, bytes: 0 }])) as Record<Signal, Figures>;
    const usage = rows.map((r) => {
      const t = totals[r.signal];
      if (t) {
        t.events += r.events;
        t.bytes += r.bytes;
      }
      return { hour: new Date(r.hour).toISOString(), signal: r.signal, events: r.events, bytes: r.bytes };
    });
    return { usage, totals };
  });
}
