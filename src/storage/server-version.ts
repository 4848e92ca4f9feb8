/**
 * The oldest ClickHouse server OllyStack runs on, and the check made when a server store opens.
 *
 * The minimum is the newest feature the schema and the store rely on, checked against the
 * ClickHouse changelogs:
 * - `insert_deduplication_token` (22.2, ClickHouse PR #32304): every insert sets it, and it is
 *   what makes a batch re-inserted after a crash harmless. Before 22.2 the server refuses the
 *   unknown setting, so no insert would work at all. This is the binding feature.
 * - the `Bool` type (21.12, PR #31072): otel_metrics_sum.IsMonotonic.
 * - older than those, so not binding: `Map` columns and bloom_filter indexes over `mapKeys()`
 *   (21.x), `non_replicated_deduplication_window` (21.x), window functions such as
 *   `lagInFrame` in the metrics queries (21.x), DateTime64 and `toUnixTimestamp64Nano` (20.x),
 *   TTL, codecs (Delta, ZSTD), LowCardinality, tokenbf_v1/bloom_filter/minmax skip indexes and
 *   `{name:Type}` query parameters (19.x), ReplicatedMergeTree/Distributed/ON CLUSTER (older still).
 * - not a server requirement: `INSERT ... FROM INFILE` is used only with chDB in process.
 * So: 22.2. (@clickhouse/client itself is tested against 24.8+ and works best-effort on older
 * servers.)
 *
 * chDB is not checked: it is the ClickHouse engine built into the npm package, always current.
 */
import { get as httpGet } from 'node:http';
import { get as httpsGet } from 'node:https';

export const MIN_SERVER_VERSION = '22.2';
const WHY_MIN = 'every insert sets insert_deduplication_token (added in 22.2) and the schema uses the Bool type (21.12)';

/** A server that accepts the connection but does not answer within this is reported unreachable. */
const TIMEOUT_MS = 10_000;

/** `24.8.4.13` -> [24, 8, 4, 13]. Text after the numbers (a build suffix) is ignored. */
export function parseServerVersion(text: string): number[] {
  const match = /^\s*(\d+(?:\.\d+)+)/.exec(text);
  if (!match) throw new Error(`ClickHouse server version: expected numbers with dots such as 24.8.4.13, got ${JSON.stringify(text.slice(0, 100))}`);
  return match[1].split('.').map(Number);
}

/** Negative, zero or positive as a is older than, the same as, or newer than b; missing parts count as 0. */
export function compareVersions(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** Throws the "too old" error when `version` is below the minimum. `where` names the server (no password). */
export function assertSupportedVersion(version: string, where: string): void {
  if (compareVersions(parseServerVersion(version), parseServerVersion(MIN_SERVER_VERSION)) < 0) {
    throw new Error(
      `ClickHouse server ${version.trim()} at ${where} is too old: OllyStack needs ${MIN_SERVER_VERSION} or newer (${WHY_MIN}). ` +
        'Upgrade the server or point store.url at a newer one.',
    );
  }
}

/** The URL as it can be shown: the password replaced by ***. */
export function redactUrl(url: URL): string {
  if (url.password === '') return url.href;
  const shown = new URL(url.href);
  shown.password = '***';
  return shown.href;
}

/**
 * One GET on its own connection, closed after it: a pooled keep-alive socket would outlive
 * the check (and hold up a server shutting down, which waits for open connections).
 */
function getOnce(url: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  const get = url.startsWith('https:') ? httpsGet : httpGet;
  return new Promise((resolve, reject) => {
    const req = get(url, { headers: { ...headers, connection: 'close' }, agent: false, timeout: TIMEOUT_MS }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${TIMEOUT_MS / 1000} s`)));
    req.on('error', reject);
  });
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as { code?: unknown }).code;
  // Node puts the reason's name (ECONNREFUSED, ENOTFOUND, ...) in code; the message repeats the address.
  return typeof code === 'string' ? code : err.message;
}

/**
 * Asks the server `SELECT version()` and refuses one older than MIN_SERVER_VERSION; returns
 * the version. An unreachable server, and one that answers with an error (a wrong password),
 * are errors naming the URL, never its password.
 *
 * The question goes as a plain `GET /?query=SELECT version()`, the oldest form of the HTTP
 * interface: every server version answers it, whatever formats and settings @clickhouse/client
 * sends in its own requests, and a failure is reported once, here, not also by the client's
 * error log.
 */
export async function checkServerVersion(url: URL): Promise<string> {
  const where = redactUrl(url);
  const user = decodeURIComponent(url.username) || 'default';
  const password = decodeURIComponent(url.password);
  let answer: { status: number; body: string };
  try {
    answer = await getOnce(`${url.protocol}//${url.host}/?query=${encodeURIComponent('SELECT version()')}`, {
      authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
    });
  } catch (err) {
    throw new Error(`store.url: ClickHouse server at ${where} is unreachable: ${describe(err)}`, { cause: err });
  }
  const body = answer.body.trim();
  if (answer.status !== 200) {
    throw new Error(`store.url: ClickHouse server at ${where} did not answer SELECT version(): HTTP ${answer.status}: ${body.slice(0, 300)}`);
  }
  assertSupportedVersion(body, where);
  return body;
}
