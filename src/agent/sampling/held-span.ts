/**
 * A span held by the sampler, in compact form: its protobuf encoding in a shared slab (see
 * slabs.ts) and a reference to its origin, which every span of the same resource and scope shares.
 * Held as decoded objects, a span with ten attributes and an event costs ~4 KB of heap; this way
 * it costs its encoding (a few hundred bytes, off the V8 heap) plus this small object. What the
 * decision needs (error, duration, randomness) is read when the span arrives and kept on its trace.
 */
import type { opentelemetry } from '../../otlp/index.ts';
import type { ScopeOrigin } from './origins.ts';
import type { SamplingThreshold } from './randomness.ts';

export type Span = opentelemetry.proto.trace.v1.Span.$Properties;

/** Where a span's encoding lies: bytes [offset, offset + length) of slab. */
export interface SlabRange {
  slab: Buffer;
  offset: number;
  length: number;
}

const NO_BYTES = Buffer.alloc(0);

export class HeldSpan implements SlabRange {
  readonly origin: ScopeOrigin;
  /** Set by SlabStore.put. */
  slab = NO_BYTES;
  offset = 0;
  length = 0;
  /** What it was kept with; undefined while its trace awaits a decision. */
  threshold: SamplingThreshold | undefined = undefined;
  /** The next span of its pending trace: a list costs a field per span, an array ~150 bytes per trace. */
  next: HeldSpan | undefined = undefined;

  constructor(origin: ScopeOrigin) {
    this.origin = origin;
  }
}
