/**
 * Test fixture: the ClickHouse HTTP interface on 127.0.0.1, executed by the real ClickHouse
 * engine in process (chDB). The distributed mode talks to ClickHouse over HTTP through
 * @clickhouse/client; with this, its tests get a store several processes share, that can be
 * killed and started again on the same data, on a machine without a ClickHouse server.
 *
 * What it serves (what @clickhouse/client 1.x sends):
 * - `GET /ping` and `GET /` -> `Ok.`; `GET /?query=...` runs the query;
 * - `POST /?<settings>&param_<name>=...&database=..&default_format=..` with the SQL in the body,
 *   or `query=INSERT INTO t FORMAT X` with the data (any format: JSONEachRow, Native,
 *   RowBinary, ...) in the body, streamed to a file and inserted with `FROM INFILE`;
 * - request bodies compressed with gzip/deflate/br/zstd (Content-Encoding), and compressed
 *   answers when the request sets enable_http_compression=1 and sends Accept-Encoding;
 * - errors as ClickHouse sends them (status, X-ClickHouse-Exception-Code, `Code: N. DB::Exception: ...`);
 * - Basic auth or X-ClickHouse-User/Key, checked when `auth` is configured.
 *
 * Not served: HTTP sessions (session_id), roles, ClickHouse's own compression (compress=1 /
 * decompress=1), multipart bodies, streaming of results (answers are built whole), GET's
 * read-only mode, and the refusal of multi-statement queries (chDB runs them).
 */
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve as resolvePath } from 'node:path';
import { PassThrough, Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as zlib from 'node:zlib';
import { ChdbEngine, sqlString, type EngineResult } from './chdb-http-engine.ts';
import { ClickHouseHttpError, httpStatusFor } from './chdb-http-errors.ts';
import { planRequest, type Credentials, type RequestPlan } from './chdb-http-request.ts';

export interface ChdbHttpServerOptions {
  /** chDB data folder (created if missing). One per process: chDB binds a single data folder per process. */
  dir: string;
  host?: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  /** When set, every request must carry these credentials (else 516 AUTHENTICATION_FAILED). */
  auth?: Credentials;
  /** Largest SQL text accepted (body plus `query`); default 16 MiB. */
  maxQueryBytes?: number;
  /** Largest insert body accepted (after decompression); default 1 GiB. */
  maxInsertBytes?: number;
}

export interface ChdbHttpServer {
  readonly port: number;
  /** `http://host:port`, for @clickhouse/client's `url`. */
  readonly url: string;
  /** The ClickHouse version chDB embeds (what `SELECT version()` answers). */
  readonly version: string;
  close(): Promise<void>;
}

const DEFAULT_MAX_QUERY_BYTES = 16 * 1024 * 1024;
const DEFAULT_MAX_INSERT_BYTES = 1024 * 1024 * 1024;

/** Decoders for request bodies by Content-Encoding. */
const BODY_DECODERS: Record<string, () => Transform> = {
  gzip: () => zlib.createGunzip(),
  deflate: () => zlib.createInflate(),
  br: () => zlib.createBrotliDecompress(),
  zstd: () => zlib.createZstdDecompress(),
};

/** Encoders for answers, in the order preferred when a client accepts several. */
const ANSWER_ENCODERS: Array<[string, (body: Uint8Array) => Buffer]> = [
  ['zstd', (body) => zlib.zstdCompressSync(body)],
  ['br', (body) => zlib.brotliCompressSync(body)],
  ['gzip', (body) => zlib.gzipSync(body)],
  ['deflate', (body) => zlib.deflateSync(body)],
];

/**
 * The request body, decoded. Read through a pipe rather than from `req` itself: a failed
 * pipeline destroys its streams, and destroying `req` would close the socket before the error
 * answer goes out; a pipe only stops, and the caller drains the rest.
 */
function decodedBody(req: IncomingMessage): Readable {
  const encoding = req.headers['content-encoding']?.trim().toLowerCase();
  const body = req.pipe(new PassThrough());
  if (encoding === undefined || encoding === '' || encoding === 'identity') return body;
  const decoder = BODY_DECODERS[encoding];
  if (decoder === undefined) throw ClickHouseHttpError.of('BAD_ARGUMENTS', `Content-Encoding ${JSON.stringify(encoding)} is not supported`);
  return body.pipe(decoder());
}

/** Passes bytes through, failing once more than `limit` went by (names the limit in the error). */
function byteLimit(limit: number, what: string): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      seen += chunk.length;
      if (seen > limit) callback(ClickHouseHttpError.of('BAD_ARGUMENTS', `${what} is larger than the test server's limit of ${limit} bytes`));
      else callback(null, chunk);
    },
  });
}

/** A body that could not be read (bad compression, a client gone) is the request's fault: 400, not 500. */
function bodyError(err: unknown): ClickHouseHttpError {
  if (err instanceof ClickHouseHttpError) return err;
  return ClickHouseHttpError.of('BAD_ARGUMENTS', `the request body could not be read: ${err instanceof Error ? err.message : String(err)}`);
}

async function readText(body: Readable, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  try {
    await pipeline(body, byteLimit(limit, 'the query'), async (source: AsyncIterable<Buffer>) => {
      for await (const chunk of source) chunks.push(chunk);
    });
  } catch (err) {
    throw bodyError(err);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function summaryHeader(result: EngineResult | null): string {
  const rows = String(result?.rowsRead ?? 0);
  const bytes = String(result?.bytesRead ?? 0);
  return JSON.stringify({
    read_rows: rows,
    read_bytes: bytes,
    written_rows: '0',
    written_bytes: '0',
    total_rows_to_read: '0',
    result_rows: rows,
    result_bytes: bytes,
    elapsed_ns: String(Math.round((result?.elapsedSeconds ?? 0) * 1e9)),
  });
}

export async function startChdbHttpServer(options: ChdbHttpServerOptions): Promise<ChdbHttpServer> {
  const maxQueryBytes = options.maxQueryBytes ?? DEFAULT_MAX_QUERY_BYTES;
  const maxInsertBytes = options.maxInsertBytes ?? DEFAULT_MAX_INSERT_BYTES;
  const engine = await ChdbEngine.open(options.dir);
  // Insert bodies wait here for FROM INFILE: beside the data folder (not in it, which is the
  // engine's), cleared at start of what a killed server left, removed at close.
  const insertDir = `${resolvePath(options.dir)}-http-inserts`;
  await rm(insertDir, { recursive: true, force: true });
  await mkdir(insertDir, { recursive: true });

  function checkAuth(plan: RequestPlan): void {
    const expected = options.auth;
    if (expected === undefined) return;
    if (plan.credentials.user !== expected.user || plan.credentials.password !== expected.password) {
      throw ClickHouseHttpError.of(
        'AUTHENTICATION_FAILED',
        `${plan.credentials.user}: Authentication failed: password is incorrect, or there is no user with such name`,
      );
    }
  }

  /** An INSERT whose data is the body: the body goes to a file first, so a slow upload holds no engine time. */
  async function runInsert(req: IncomingMessage, plan: RequestPlan, insert: { target: string; format: string }): Promise<EngineResult> {
    const file = join(insertDir, `${randomUUID()}.data`);
    try {
      await pipeline(decodedBody(req), byteLimit(maxInsertBytes, 'the insert body'), createWriteStream(file)).catch((err: unknown) => {
        throw bodyError(err);
      });
      return await engine.run({
        sql: `INSERT INTO ${insert.target} FROM INFILE ${sqlString(file)} FORMAT ${insert.format}`,
        format: plan.defaultFormat,
        settings: plan.settings,
        params: plan.params,
        database: plan.database,
      });
    } finally {
      await rm(file, { force: true });
    }
  }

  async function runQuery(req: IncomingMessage, plan: RequestPlan): Promise<EngineResult> {
    // As ClickHouse does: the body continues the `query` URL parameter, after a newline.
    const body = req.method === 'POST' ? await readText(decodedBody(req), maxQueryBytes) : '';
    const sql = [plan.urlQuery, body].filter((part) => part !== '').join('\n');
    if (Buffer.byteLength(sql) > maxQueryBytes) throw ClickHouseHttpError.of('BAD_ARGUMENTS', `the query is larger than the test server's limit of ${maxQueryBytes} bytes`);
    if (sql.trim() === '') throw ClickHouseHttpError.of('SYNTAX_ERROR', 'Empty query');
    return engine.run({ sql, format: plan.defaultFormat, settings: plan.settings, params: plan.params, database: plan.database });
  }

  function answer(req: IncomingMessage, res: ServerResponse, plan: RequestPlan, result: EngineResult): void {
    let body: Uint8Array = result.body;
    res.setHeader('X-ClickHouse-Summary', summaryHeader(result));
    res.setHeader('X-ClickHouse-Format', plan.defaultFormat);
    res.setHeader('X-ClickHouse-Timezone', engine.timezone);
    if (plan.queryId !== null) res.setHeader('X-ClickHouse-Query-Id', plan.queryId);
    if (plan.settings.get('enable_http_compression') === '1') {
      const accepted = (req.headers['accept-encoding'] ?? '').split(',').map((e) => e.trim().split(';')[0].toLowerCase());
      const encoder = ANSWER_ENCODERS.find(([name]) => accepted.includes(name));
      if (encoder !== undefined) {
        res.setHeader('Content-Encoding', encoder[0]);
        body = encoder[1](body);
      }
    }
    res.writeHead(200, { 'Content-Type': 'text/plain; charset=UTF-8', 'Content-Length': body.byteLength });
    res.end(body);
  }

  function fail(res: ServerResponse, err: unknown): void {
    const error = ClickHouseHttpError.from(err);
    const body = `${error.message}${/\(version [^)]*\)\s*$/.test(error.message) ? '' : ` (version ${engine.version})`}\n`;
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.writeHead(httpStatusFor(error.code), {
      'Content-Type': 'text/plain; charset=UTF-8',
      'X-ClickHouse-Exception-Code': String(error.code),
      'Content-Length': Buffer.byteLength(body),
    });
    res.end(body);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method === 'GET' && (url.pathname === '/ping' || (url.pathname === '/' && !url.searchParams.has('query')))) {
      // Drain what a client might send so the connection stays usable.
      req.resume();
      res.writeHead(200, { 'Content-Type': 'text/html; charset=UTF-8', 'Content-Length': 4 });
      res.end('Ok.\n');
      return;
    }
    if (url.pathname !== '/' || (req.method !== 'GET' && req.method !== 'POST')) {
      req.resume();
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=UTF-8' });
      res.end(`There is no handle ${url.pathname} (${req.method}); the chDB test server serves GET/POST / and GET /ping\n`);
      return;
    }
    try {
      const plan = planRequest(url, req.headers, engine.settingNames);
      checkAuth(plan);
      if (req.headers['content-type']?.startsWith('multipart/form-data')) {
        throw ClickHouseHttpError.of('NOT_IMPLEMENTED', 'multipart bodies (use_multipart_params) are not supported by the chDB test server');
      }
      const result = req.method === 'POST' && plan.insert !== null ? await runInsert(req, plan, plan.insert) : await runQuery(req, plan);
      answer(req, res, plan, result);
    } catch (err) {
      // The rest of a refused body is read and dropped, so the client sees the error, not a reset.
      req.unpipe();
      req.resume();
      fail(res, err);
    }
  }

  const server: Server = createServer((req, res) => void handle(req, res));
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    await engine.close();
    await rm(insertDir, { recursive: true, force: true });
    throw err;
  }
  const port = (server.address() as AddressInfo).port;
  const host = options.host ?? '127.0.0.1';
  let closing: Promise<void> | null = null;
  return {
    port,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    version: engine.version,
    close() {
      closing ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        await engine.close();
        server.closeAllConnections();
        await closed;
        await rm(insertDir, { recursive: true, force: true });
      })();
      return closing;
    },
  };
}
