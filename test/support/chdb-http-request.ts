/**
 * Reads a ClickHouse HTTP request's URL and headers the way the ClickHouse server does: the
 * query (or the start of it) in `query`, `param_<name>` query parameters, the database, the
 * default output format, credentials, and every other URL parameter as a query setting.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { ClickHouseHttpError } from './chdb-http-errors.ts';

/** Identifiers that go into SQL text (setting, parameter and database names): checked, never quoted. */
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * URL parameters that are ClickHouse HTTP-interface options, not settings. Ignored ones change
 * only how a real server streams or buffers its answer, which this server does not do.
 */
const IGNORED_HTTP_OPTIONS = new Set([
  'query_id',
  'quota_key',
  'buffer_size',
  'wait_end_of_query',
  'stacktrace',
  'client_protocol_version',
  'session_timeout',
  'session_check',
]);

/** Options this server cannot honour: refused rather than silently behaving unlike ClickHouse. */
const UNSUPPORTED_HTTP_OPTIONS: Record<string, string> = {
  session_id: 'HTTP sessions (session_id) are not supported by the chDB test server',
  role: 'roles (role) are not supported by the chDB test server',
  compress: 'ClickHouse-compressed responses (compress=1) are not supported by the chDB test server',
  decompress: 'ClickHouse-compressed request bodies (decompress=1) are not supported by the chDB test server',
  // Once readonly is set on the shared session, resetting it afterwards is refused.
  readonly: 'the readonly setting is not supported by the chDB test server',
};

/** An `INSERT INTO t [(columns)] FORMAT X` whose data is the request body. */
const INSERT_WITH_BODY_DATA = /^\s*INSERT\s+INTO\s+(?:TABLE\s+)?([A-Za-z0-9_.`"]+)\s*(\([^()]*\))?\s*FORMAT\s+([A-Za-z0-9_]+)\s*$/is;

export interface Credentials {
  user: string;
  password: string;
}

export interface RequestPlan {
  /** The `query` URL parameter ('' when absent): the whole query, or its start when the body continues it. */
  urlQuery: string;
  /** Set when the URL query is an INSERT whose data is the body: the target (table and columns) and format. */
  insert: { target: string; format: string } | null;
  /** Settings for this request only (name -> value, as text). */
  settings: Map<string, string>;
  /** Query parameters for this request only (name -> value in ClickHouse's escaped text form). */
  params: Map<string, string>;
  /** The output format when the SQL has no FORMAT clause. */
  defaultFormat: string;
  /** The database to run in, when the request names one. */
  database: string | null;
  queryId: string | null;
  credentials: Credentials;
}

function checkIdentifier(kind: string, name: string): string {
  if (!IDENTIFIER.test(name)) throw ClickHouseHttpError.of('BAD_ARGUMENTS', `${kind} must match ${IDENTIFIER}, got ${JSON.stringify(name)}`);
  return name;
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Basic auth, then X-ClickHouse-User/Key headers, then user/password URL parameters; 'default' with no password otherwise. */
export function readCredentials(url: URL, headers: IncomingHttpHeaders): Credentials {
  const authorization = header(headers, 'authorization');
  if (authorization?.startsWith('Basic ')) {
    const decoded = Buffer.from(authorization.slice('Basic '.length), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon < 0 ? { user: decoded, password: '' } : { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  const user = header(headers, 'x-clickhouse-user') ?? url.searchParams.get('user') ?? 'default';
  const password = header(headers, 'x-clickhouse-key') ?? url.searchParams.get('password') ?? '';
  return { user, password };
}

/**
 * @param knownSettings the engine's setting names: an unknown one fails here, as ClickHouse fails
 *   it, before anything is applied to the shared session.
 */
export function planRequest(url: URL, headers: IncomingHttpHeaders, knownSettings: ReadonlySet<string>): RequestPlan {
  const settings = new Map<string, string>();
  const params = new Map<string, string>();
  for (const [key, value] of url.searchParams) {
    if (key.startsWith('param_')) {
      params.set(checkIdentifier('query parameter name', key.slice('param_'.length)), value);
      continue;
    }
    if (['query', 'database', 'default_format', 'user', 'password'].includes(key) || IGNORED_HTTP_OPTIONS.has(key)) continue;
    const unsupported = UNSUPPORTED_HTTP_OPTIONS[key];
    if (unsupported !== undefined) {
      // compress=0 / decompress=0 ask for nothing unusual.
      if ((key === 'compress' || key === 'decompress') && value !== '1') continue;
      throw ClickHouseHttpError.of('NOT_IMPLEMENTED', unsupported);
    }
    checkIdentifier('setting name', key);
    if (!knownSettings.has(key)) throw ClickHouseHttpError.of('UNKNOWN_SETTING', `Unknown setting '${key}'`);
    settings.set(key, value);
  }
  const urlQuery = url.searchParams.get('query') ?? '';
  const insert = INSERT_WITH_BODY_DATA.exec(urlQuery);
  const database = url.searchParams.get('database') ?? header(headers, 'x-clickhouse-database') ?? null;
  const defaultFormat = url.searchParams.get('default_format') ?? header(headers, 'x-clickhouse-format') ?? 'TabSeparated';
  return {
    urlQuery,
    insert: insert ? { target: `${insert[1]}${insert[2] === undefined ? '' : ` ${insert[2]}`}`, format: insert[3] } : null,
    settings,
    params,
    defaultFormat: checkIdentifier('default_format', defaultFormat),
    database: database === null ? null : checkIdentifier('database', database),
    queryId: url.searchParams.get('query_id'),
    credentials: readCredentials(url, headers),
  };
}
