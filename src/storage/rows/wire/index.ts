/**
 * Wire row mappers: OTLP Export request bytes -> JSONEachRow text per table, directly, without
 * protobufjs objects or row objects. Each produces exactly the rows of the object mappers in
 * ../index.ts (RECORD_MAPPERS) for the requests the codec accepts (decodeRequest), and throws
 * OtlpDecodeError for the ones it rejects.
 */
import type { Signal, TenantId } from '../../../telemetry/signals.ts';
import { appendLogWire } from './logs.ts';
import { appendMetricWire } from './metrics.ts';
import type { TextRowSink } from './text-sink.ts';
import { appendTraceWire } from './traces.ts';

export { TextRowSink, type TextEntry } from './text-sink.ts';
export { appendTraceWire } from './traces.ts';
export { appendLogWire } from './logs.ts';
export { appendMetricWire } from './metrics.ts';

/** Decodes one bus record's value and appends its rows' lines; returns the rows appended. */
export type WireMapper = (bytes: Uint8Array, tenant: TenantId, sink: TextRowSink) => number;

/** A record that fails half-way leaves nothing behind in the sink (as the object mappers, which decode first). */
function atomic(map: WireMapper): WireMapper {
  return (bytes, tenant, sink) => {
    sink.begin();
    try {
      return map(bytes, tenant, sink);
    } catch (err) {
      sink.rollback();
      throw err;
    }
  };
}

export const WIRE_MAPPERS: Record<Signal, WireMapper> = {
  traces: atomic(appendTraceWire),
  metrics: atomic(appendMetricWire),
  logs: atomic(appendLogWire),
};
