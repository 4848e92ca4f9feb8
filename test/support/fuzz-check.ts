/**
 * The fuzz oracle for decoders: runs every decoder of a signal on one input and reports what
 * breaks the properties every decoder promises:
 *  - it returns or throws OtlpDecodeError (anything else, a TypeError or RangeError from deep
 *    inside, is a bug);
 *  - the codec (decodeRequest), the JSONEachRow wire mapper and the Native mapper accept and
 *    reject the same inputs, and the two mappers write the same number of rows;
 *  - what decodes also routes (splitByResource), with the same item count, into parts that decode;
 *  - JSONEachRow output is valid UTF-8, one JSON object per line.
 * And for the gateway's validator: what it lets through, every decoder accepts.
 */
import { IngestError, validateRequest, type ValidationLimits, type ValidationResult } from '../../src/gateway/index.ts';
import { OtlpDecodeError, decodeRequest, encodeRequest, requestFromJson, splitByResource, type ExportRequest } from '../../src/otlp/index.ts';
import { NATIVE_MAPPERS, NativeRowSink, TextRowSink, WIRE_MAPPERS } from '../../src/storage/index.ts';
import type { Signal } from '../../src/telemetry/signals.ts';

export const FUZZ_TENANT = 'fuzz-tenant';

type Attempt<T> = { ok: true; value: T } | { ok: false; error: OtlpDecodeError };

/** A violated property, with enough to reproduce it. */
export interface Violation {
  label: string;
  message: string;
  /** The input, hex, cut to a readable size. */
  input: string;
}

export class Violations {
  readonly list: Violation[] = [];
  count = 0;

  add(label: string, message: string, input: Uint8Array | string): void {
    this.count++;
    // Keep the first few of each kind of message: enough to reproduce, not a wall of text.
    const kind = message.replace(/\d+/g, 'N');
    if (this.list.filter((v) => v.message.replace(/\d+/g, 'N') === kind).length >= 3 || this.list.length >= 40) return;
    const shown = typeof input === 'string' ? JSON.stringify(input.length > 600 ? `${input.slice(0, 600)}...` : input) : hex(input);
    this.list.push({ label, message, input: shown });
  }
}

export function hex(bytes: Uint8Array, max = 400): string {
  const h = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
  return h.length > max * 2 ? `${h.slice(0, max * 2)}... (${bytes.length} bytes)` : h;
}

function describe(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}${err.stack ? ` @ ${err.stack.split('\n').slice(1, 3).join(' <')}` : ''}`;
  return `non-Error thrown: ${String(err)}`;
}

/** Runs fn: its value, or the OtlpDecodeError it threw; anything else thrown is recorded as a violation. */
function attempt<T>(fn: () => T, what: string, label: string, input: Uint8Array | string, out: Violations): Attempt<T> | undefined {
  try {
    return { ok: true, value: fn() };
  } catch (err) {
    if (err instanceof OtlpDecodeError) {
      if (err.message === '') out.add(label, `${what} threw an OtlpDecodeError without a message`, input);
      return { ok: false, error: err };
    }
    out.add(label, `${what} threw ${describe(err)}`, input);
    return undefined;
  }
}

/** Spans, log records or data points (all five point types) in a decoded request. */
export function countItems(signal: Signal, message: ExportRequest): number {
  let n = 0;
  if (signal === 'traces') {
    for (const rs of (message as ExportRequest<'traces'>).resourceSpans) for (const ss of rs.scopeSpans) n += ss.spans.length;
  } else if (signal === 'logs') {
    for (const rl of (message as ExportRequest<'logs'>).resourceLogs) for (const sl of rl.scopeLogs) n += sl.logRecords.length;
  } else {
    for (const rm of (message as ExportRequest<'metrics'>).resourceMetrics)
      for (const sm of rm.scopeMetrics)
        for (const m of sm.metrics) n += (m.gauge ?? m.sum ?? m.histogram ?? m.exponentialHistogram ?? m.summary)?.dataPoints.length ?? 0;
  }
  return n;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function checkJsonEachRow(sink: TextRowSink, label: string, input: Uint8Array, out: Violations): void {
  for (const [table, body, rows] of sink.entries()) {
    let text: string;
    try {
      text = strictUtf8.decode(body);
    } catch {
      out.add(label, `wire mapper wrote invalid UTF-8 into ${table}`, input);
      continue;
    }
    const lines = text.endsWith('\n') ? text.slice(0, -1).split('\n') : [text];
    if (!text.endsWith('\n') || lines.length !== rows) out.add(label, `wire mapper: ${table} has ${lines.length} lines for ${rows} rows`, input);
    for (const line of lines) {
      try {
        JSON.parse(line);
      } catch (err) {
        out.add(label, `wire mapper wrote a line of ${table} that is not JSON (${(err as Error).message}): ${line.slice(0, 200)}`, input);
        break;
      }
    }
  }
}

/** Every protobuf decoder of `signal` on `input`; returns whether the codec accepted it. */
export function checkProto(signal: Signal, input: Uint8Array, label: string, out: Violations): boolean {
  const decoded = attempt(() => decodeRequest(signal, input), 'decodeRequest', label, input, out);
  const parts = attempt(() => splitByResource(signal, input), 'splitByResource', label, input, out);
  const textSink = new TextRowSink();
  const wire = attempt(() => WIRE_MAPPERS[signal](input, FUZZ_TENANT, textSink), 'WIRE_MAPPERS', label, input, out);
  const nativeSink = new NativeRowSink();
  const native = attempt(() => NATIVE_MAPPERS[signal](input, FUZZ_TENANT, nativeSink), 'NATIVE_MAPPERS', label, input, out);
  if (!decoded) return false;

  if (wire && wire.ok !== decoded.ok) out.add(label, `decodeRequest ${decoded.ok ? 'accepts' : 'rejects'} but the wire mapper ${wire.ok ? 'accepts' : `rejects (${wire.error.message})`}`, input);
  if (native && native.ok !== decoded.ok) out.add(label, `decodeRequest ${decoded.ok ? 'accepts' : 'rejects'} but the Native mapper ${native.ok ? 'accepts' : `rejects (${native.error.message})`}`, input);
  if (wire?.ok && native?.ok && wire.value !== native.value) out.add(label, `wire mapper wrote ${wire.value} rows, Native mapper ${native.value}`, input);
  if (wire?.ok) checkJsonEachRow(textSink, label, input, out);
  if (native?.ok) {
    try {
      nativeSink.entries();
    } catch (err) {
      out.add(label, `Native blocks could not be assembled: ${describe(err)}`, input);
    }
  }

  if (decoded.ok && parts) {
    if (!parts.ok) {
      out.add(label, `decodes but does not route: ${parts.error.message}`, input);
    } else {
      const items = countItems(signal, decoded.value);
      const routed = parts.value.reduce((n, p) => n + p.items, 0);
      if (routed !== items) out.add(label, `routing counted ${routed} items, the decoded request has ${items}`, input);
      for (const p of parts.value) {
        const again = attempt(() => decodeRequest(signal, p.bytes), 'decodeRequest of a routed part', label, input, out);
        if (again && !again.ok) out.add(label, `the part for ${p.serviceName} does not decode: ${again.error.message}`, input);
      }
    }
  }
  return decoded.ok;
}

/** requestFromJson on a parsed JSON value; what it accepts must encode to protobuf every decoder accepts. */
export function checkJson(signal: Signal, value: unknown, label: string, text: string, out: Violations): boolean {
  const msg = attempt(() => requestFromJson(signal, value), 'requestFromJson', label, text, out);
  if (!msg?.ok) return false;
  let bytes: Uint8Array;
  try {
    bytes = encodeRequest(signal, msg.value);
  } catch (err) {
    out.add(label, `requestFromJson accepted what encodeRequest cannot encode: ${describe(err)}`, text);
    return false;
  }
  const sub = new Violations();
  const ok = checkProto(signal, bytes, label, sub);
  for (const v of sub.list) out.add(label, `accepted JSON, then its protobuf: ${v.message}`, text);
  if (!ok && sub.list.length === 0) {
    let reason = '';
    try {
      decodeRequest(signal, bytes);
    } catch (err) {
      reason = (err as Error).message;
    }
    out.add(label, `requestFromJson accepted JSON whose protobuf encoding decodeRequest rejects (${reason})`, text);
  }
  return ok;
}

/** The gateway's limits as configured by default, and tight ones that make it cut items and truncate values. */
export const VALIDATION_LIMITS: readonly ValidationLimits[] = [
  { maxAttributesPerItem: 128, maxAttributeValueBytes: 16 * 1024, maxAttributeDepth: 16, maxEventsPerSpan: 256, maxLinksPerSpan: 128, maxPastHours: 24 * 7, maxFutureMinutes: 60 },
  { maxAttributesPerItem: 2, maxAttributeValueBytes: 16, maxAttributeDepth: 2, maxEventsPerSpan: 0, maxLinksPerSpan: 0, maxPastHours: 1, maxFutureMinutes: 1 },
];

/**
 * The gateway validator on `input`: it returns or throws IngestError('invalid') with a message;
 * what it returns goes to the bus, so every decoder must accept it, with the item count it
 * claims; and a request the codec accepts is never refused as a whole.
 */
export function checkValidator(signal: Signal, input: Uint8Array, limits: ValidationLimits, nowMs: number, label: string, out: Violations): 'passed' | 'refused' | 'broken' {
  let result: ValidationResult;
  let codecOk: ExportRequest | undefined;
  try {
    codecOk = decodeRequest(signal, input);
  } catch {
    codecOk = undefined;
  }
  try {
    result = validateRequest(signal, input, limits, nowMs);
  } catch (err) {
    if (!(err instanceof IngestError)) {
      out.add(label, `validateRequest threw ${describe(err)}`, input);
      return 'broken';
    }
    if (err.kind !== 'invalid' || err.message.trim() === '') out.add(label, `validateRequest refused with kind ${err.kind} and message '${err.message}'`, input);
    if (codecOk) out.add(label, `validateRequest refused a request decodeRequest accepts: ${err.message}`, input);
    return 'refused';
  }
  const sub = new Violations();
  const ok = checkProto(signal, result.payload, label, sub);
  for (const v of sub.list) out.add(label, `validator output: ${v.message}`, input);
  if (!ok) {
    let reason = '';
    try {
      decodeRequest(signal, result.payload);
    } catch (err) {
      reason = (err as Error).message;
    }
    const how = codecOk ? 'its rewrite of a valid request' : result.payload === input ? 'a malformed request, unchanged' : 'its rewrite of a malformed request';
    out.add(label, `validateRequest passed bytes the storage consumer cannot decode (${how}): ${reason}`, input);
    return 'broken';
  }
  const kept = countItems(signal, decodeRequest(signal, result.payload));
  if (result.accepted !== kept) out.add(label, `validateRequest reports ${result.accepted} items accepted, its output holds ${kept}`, input);
  if (codecOk) {
    const total = countItems(signal, codecOk);
    if (result.accepted + result.rejected !== total) out.add(label, `validateRequest: ${result.accepted} accepted + ${result.rejected} rejected, but the request holds ${total} items`, input);
  }
  if (result.rejected > 0 && result.message.trim() === '') out.add(label, `validateRequest rejected ${result.rejected} items without a message`, input);
  return 'passed';
}
