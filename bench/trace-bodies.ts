/** The trace requests bench/kafka.ts fills its topic with, and its yardstick decodes. */
import { spanRequest } from './payloads.ts';

export const SPANS = 500;

/** Eight 500-span requests of SDK-like spans, one service each. */
export const traceBodies = (): Buffer[] => Array.from({ length: 8 }, (_, i) => Buffer.from(spanRequest(SPANS, i + 1, `svc-${i}`)));
