/**
 * One chDB session behind the test server, run one request at a time, each request with its
 * own settings, query parameters and database, as a ClickHouse server gives every HTTP request.
 *
 * A chDB session is one connection that is not safe for concurrent use, and `SET` on it sticks
 * for every later query. So requests go through a promise queue, and after each one the
 * session is put back as it was: the settings it applied are reset, its parameters are
 * invalidated, the database is switched back.
 *
 * Query parameters are applied with `SET param_<name> = '<value>'`, not chDB's queryBindAsync:
 * queryBindAsync takes JS values and escapes them again, where the HTTP `param_` values are
 * already in ClickHouse's escaped text form (a string `it's` arrives as `it\'s`, an array as
 * `['a','b']`), and escaping them twice changes them. `SET param_` hands the engine that text
 * unchanged, exactly as the HTTP server does.
 */
import { Session } from 'chdb';
import { ClickHouseHttpError } from './chdb-http-errors.ts';

/** A ClickHouse string literal: backslash and quote escaped. */
export function sqlString(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/**
 * A parameter value no type parses (ClickHouse reads one value and a tab ends it, leaving bytes
 * over): a later query that uses a parameter its request did not send fails, as on a server,
 * instead of reading an earlier request's value (chDB has no way to unset one).
 */
const INVALIDATED_PARAM = '\t';

/** Statements that may change session state themselves (SET, USE): after them the whole state is checked. */
const MAY_CHANGE_SESSION = /\b(SET|USE)\b/i;

export interface EngineRequest {
  sql: string;
  /** Output format when the SQL has no FORMAT clause. */
  format: string;
  settings: ReadonlyMap<string, string>;
  params: ReadonlyMap<string, string>;
  database: string | null;
}

export interface EngineResult {
  body: Uint8Array;
  rowsRead: number;
  bytesRead: number;
  elapsedSeconds: number;
}

interface SessionState {
  database: string;
  /** Settings that differ from their defaults, with their values. */
  changed: Map<string, string>;
}

export class ChdbEngine {
  readonly #session: Session;
  /** The state every request starts from, read when the session opened. */
  readonly #baseline: SessionState;
  readonly settingNames: ReadonlySet<string>;
  readonly version: string;
  readonly timezone: string;
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;

  private constructor(session: Session, baseline: SessionState, settingNames: ReadonlySet<string>, version: string, timezone: string) {
    this.#session = session;
    this.#baseline = baseline;
    this.settingNames = settingNames;
    this.version = version;
    this.timezone = timezone;
  }

  /** Opens (or creates) the chDB data folder. chDB allows one data folder per process. */
  static async open(dir: string): Promise<ChdbEngine> {
    const session = new Session(dir);
    try {
      const baseline = await readState(session);
      const names = (await session.queryAsync('SELECT name FROM system.settings', { format: 'JSONEachRow' }))
        .text()
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => (JSON.parse(line) as { name: string }).name);
      const info = (await session.queryAsync('SELECT version() AS version, timezone() AS timezone', { format: 'JSONEachRow' })).json<{
        version: string;
        timezone: string;
      }>();
      return new ChdbEngine(session, baseline, new Set(names), info.version, info.timezone);
    } catch (err) {
      session.close();
      throw err;
    }
  }

  /** Runs one request after every request queued before it. */
  run(request: EngineRequest): Promise<EngineResult> {
    const result = this.#queue.then(() => this.#runNow(request));
    this.#queue = result.catch(() => {});
    return result;
  }

  /** Waits for queued requests, then closes the session. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#queue;
    this.#session.close();
  }

  async #runNow(request: EngineRequest): Promise<EngineResult> {
    if (this.#closed) throw ClickHouseHttpError.of('UNKNOWN_EXCEPTION', 'the chDB test server is shutting down');
    try {
      const setup: string[] = [];
      if (request.database !== null) setup.push(`USE ${request.database}`);
      const assignments = [
        ...[...request.settings].map(([name, value]) => `${name} = ${sqlString(value)}`),
        ...[...request.params].map(([name, value]) => `param_${name} = ${sqlString(value)}`),
      ];
      if (assignments.length > 0) setup.push(`SET ${assignments.join(', ')}`);
      if (setup.length > 0) await this.#session.queryAsync(setup.join('; '));
      const result = await this.#session.queryAsync(request.sql, { format: request.format });
      return { body: result.bytes(), rowsRead: result.rowsRead, bytesRead: result.bytesRead, elapsedSeconds: result.elapsed };
    } catch (err) {
      throw ClickHouseHttpError.from(err);
    } finally {
      await this.#restore(request);
    }
  }

  /** Puts the session back to the baseline after a request. */
  async #restore(request: EngineRequest): Promise<void> {
    const resets = new Map<string, string>();
    for (const name of request.settings.keys()) resets.set(name, this.#baselineValue(name));
    let database = request.database !== null;
    if (MAY_CHANGE_SESSION.test(request.sql)) {
      const now = await readState(this.#session);
      database ||= now.database !== this.#baseline.database;
      for (const name of new Set([...now.changed.keys(), ...this.#baseline.changed.keys()])) {
        if (now.changed.get(name) !== this.#baseline.changed.get(name)) resets.set(name, this.#baselineValue(name));
      }
    }
    const assignments = [
      ...[...resets].map(([name, value]) => `${name} = ${value}`),
      ...[...request.params.keys()].map((name) => `param_${name} = ${sqlString(INVALIDATED_PARAM)}`),
    ];
    const statements: string[] = [];
    if (database) statements.push(`USE ${this.#baseline.database}`);
    if (assignments.length > 0) statements.push(`SET ${assignments.join(', ')}`);
    if (statements.length > 0) await this.#session.queryAsync(statements.join('; '));
  }

  /** The SQL that sets a setting back to its baseline: chDB's own startup value, or DEFAULT. */
  #baselineValue(name: string): string {
    const value = this.#baseline.changed.get(name);
    return value === undefined ? 'DEFAULT' : sqlString(value);
  }
}

async function readState(session: Session): Promise<SessionState> {
  const row = (
    await session.queryAsync(
      'SELECT currentDatabase() AS database, (SELECT groupArray((name, value)) FROM system.settings WHERE changed) AS changed',
      { format: 'JSONEachRow' },
    )
  ).json<{ database: string; changed: Array<[string, string]> }>();
  return { database: row.database, changed: new Map(row.changed) };
}
