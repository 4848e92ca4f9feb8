/** Reading usage back: one tenant's rows per hour and signal, each batch counted once. */
import type { Store } from '../storage/index.ts';
import type { Signal } from '../telemetry/index.ts';
import { HOUR_MS } from './aggregate.ts';
import type { UsageReader, UsageRow } from './index.ts';
import { USAGE_TABLE } from './schema.ts';

// Inner query: one row per table key (a batch's tenant, hour and signal), its latest version,
// so a repeated batch not merged away yet is not summed twice (see schema.ts).
const USAGE_SQL = `SELECT toUnixTimestamp(Hour) AS hour, Signal AS signal, sum(e) AS events, sum(b) AS bytes
FROM (
  SELECT Hour, Signal, argMax(Events, BatchEnd) AS e, argMax(Bytes, BatchEnd) AS b
  FROM ${USAGE_TABLE}
  WHERE TenantId = {tenant:String} AND Hour >= toDateTime({fromS:Int64}, 'UTC') AND Hour < toDateTime({toS:Int64}, 'UTC')
  GROUP BY Hour, Signal, Topic, Partition, BatchStart
)
GROUP BY Hour, Signal
ORDER BY Hour, Signal`;

interface UsageQueryRow {
  hour: number | string;
  signal: Signal;
  events: number | string;
  bytes: number | string;
}

export function createUsageReader(store: Store): UsageReader {
  return {
    /** Hours that overlap [fromMs, toMs), oldest first, signals in name order within an hour. */
    async usage(tenant, fromMs, toMs) {
      if (!Number.isSafeInteger(fromMs) || !Number.isSafeInteger(toMs) || toMs <= fromMs) {
        throw new Error(`usage: need whole milliseconds with fromMs < toMs, got ${fromMs}..${toMs}`);
      }
      const fromS = Math.floor(fromMs / HOUR_MS) * (HOUR_MS / 1000);
      const toS = Math.ceil(toMs / 1000);
      const rows = await store.query<UsageQueryRow>(USAGE_SQL, { tenant, fromS, toS });
      return rows.map((r): UsageRow => ({
        tenant,
        hour: Number(r.hour) * 1000,
        signal: r.signal,
        events: Number(r.events),
        bytes: Number(r.bytes),
      }));
    },
  };
}
