/** The logging surface the bus needs (pino-compatible). */
export interface BusLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export const silentLogger: BusLogger = {
  info() {},
  warn() {},
};
