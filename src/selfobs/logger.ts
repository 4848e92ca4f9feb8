import { pino, type Logger } from 'pino';

export type { Logger };

/** Structured JSON logs on stdout (pino), one logger per process, children per component. */
export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino({ level, base: { service: 'ollystack' }, timestamp: pino.stdTimeFunctions.isoTime }, destination ?? process.stdout);
}
