/**
 * Query-string parameters, validated with zod. A failure becomes a 400 whose message is
 * `<param>: <what is wrong>` (the first problem found).
 */
import { z } from 'zod';
import { badParam } from './errors.ts';

export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 1000;

/** A parameter given at most once (fastify turns `?a=1&a=2` into an array). */
export function text(maxLength: number) {
  return z
    .string({ error: 'must be given once, as text' })
    .min(1, 'must not be empty')
    .max(maxLength, `must be at most ${maxLength} characters`);
}

/** Times stay text here; parseTimeRange reads them so it can check `to` against `from`. */
export const timeParams = {
  from: text(64).optional(),
  to: text(64).optional(),
};

export const limitParam = z
  .string({ error: 'must be given once, as text' })
  .optional()
  .transform((value, ctx) => {
    if (value === undefined) return DEFAULT_LIMIT;
    const n = /^\d{1,4}$/.test(value) ? Number(value) : NaN;
    if (!(n >= 1 && n <= MAX_LIMIT)) {
      ctx.issues.push({ code: 'custom', message: `must be an integer in 1..${MAX_LIMIT}`, input: value });
      return z.NEVER;
    }
    return n;
  });

const TRACE_ID = /^[0-9a-fA-F]{32}$/;

/** 32 hex digits, any case; stored lowercase. */
export const traceIdParam = z
  .string({ error: 'must be given once, as text' })
  .regex(TRACE_ID, 'must be 32 hexadecimal digits')
  .transform((v) => v.toLowerCase());

export function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, { error: `must be one of ${values.join('|')}` });
}

/** Validates a request's query string, throwing the 400 of its first problem. */
export function parseQuery<S extends z.ZodType>(schema: S, query: unknown): z.output<S> {
  const result = schema.safeParse(query ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const name = issue.path.length > 0 ? issue.path.map(String).join('.') : 'query';
  throw badParam(name, issue.message);
}
