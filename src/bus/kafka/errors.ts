/**
 * Reading @platformatic/kafka errors: protocol errors are nested inside MultipleErrors and
 * ResponseErrors, and carry Kafka's error name as `apiId` (e.g. 'NOT_COORDINATOR').
 */
import { findErrorBy } from '@platformatic/kafka';

export function hasKafkaError(err: unknown, ...apiIds: string[]): boolean {
  for (const id of apiIds) if (findErrorBy(err as Error, 'apiId', id) !== null) return true;
  return false;
}

/** Errors after which the coordinator must be looked up again. */
export function isCoordinatorError(err: unknown): boolean {
  return (
    findErrorBy(err as Error, 'code', 'PLT_KFK_NETWORK') !== null ||
    findErrorBy(err as Error, 'code', 'PLT_KFK_TIMEOUT') !== null ||
    hasKafkaError(err, 'NOT_COORDINATOR', 'COORDINATOR_NOT_AVAILABLE', 'COORDINATOR_LOAD_IN_PROGRESS')
  );
}

/** One line naming the innermost causes, e.g. "Connection to 127.0.0.1:9092 failed. (ECONNREFUSED)". */
export function describeKafkaError(err: unknown): string {
  const leaves: string[] = [];
  const walk = (e: unknown, depth: number): void => {
    if (depth > 6 || e === null || e === undefined) return;
    const nested = (e as { errors?: unknown[] }).errors;
    if (Array.isArray(nested) && nested.length > 0) {
      for (const n of nested) walk(n, depth + 1);
      return;
    }
    const error = e as Error & { apiId?: string; cause?: unknown };
    let text = error.apiId ?? error.message ?? String(e);
    const cause = error.cause as (Error & { code?: string }) | undefined;
    if (cause && typeof cause === 'object') text += ` (${cause.code ?? cause.message})`;
    if (!leaves.includes(text)) leaves.push(text);
  };
  walk(err, 0);
  const top = (err as Error)?.message ?? String(err);
  if (leaves.length === 0) return top;
  return leaves.length > 3 ? `${leaves.slice(0, 3).join('; ')}; ...` : leaves.join('; ');
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)).unref());
}

/** Rejects with `message` when `promise` has not settled within `ms`. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, message: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message())), Math.max(0, ms));
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
