import type { KeyStoreLogger } from '../types.ts';

/** A logger that keeps what it is told, to assert on warnings. */
export function captureLogger(): KeyStoreLogger & { warnings: string[]; infos: string[] } {
  const warnings: string[] = [];
  const infos: string[] = [];
  return {
    warnings,
    infos,
    warn: (_obj, msg) => void warnings.push(msg),
    info: (_obj, msg) => void infos.push(msg),
  };
}
