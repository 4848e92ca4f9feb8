/**
 * The chDB test server through the project's own Store (createStore over http://) and through
 * @clickhouse/client where the Store has no call for it (binary formats, compression, settings).
 * One server in this process (chDB binds one data folder per process); the kill -9 test runs
 * the server as a child process on a folder of its own.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { ClickHouseError, createClient } from '@clickhouse/client';
import { createStore, migrate, MIGRATIONS, MIGRATIONS_TABLE, TRACES_TABLE } from '../../src/storage/index.ts';
import { startChdbHttpServer } from './chdb-http-server.ts';
import { spawnChdbHttpServer, type ChdbHttpServerProcess } from './chdb-http-server-process.ts';

const root = mkdtempSync(join(tmpdir(), 'chdb-http-server-test-'));
const server = await startChdbHttpServer({ dir: join(root, 'in-process'), auth: { user: 'default', password: '' } });
const storeUrl = `http://default:@127.0.0.1:${server.port}/default`;
const store = await createStore({ url: storeUrl });
const client = createClient({ url: server.url });
const children: ChdbHttpServerProcess[] = [];
after(async () => {
  await store.close();
  await client.close();
  for (const child of children) await child.kill('SIGKILL');
  await server.close();
  rmSync(root, { recursive: true, force: true });
});

async function bytesOf(stream: AsyncIterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return Buffer.concat(chunks);
}

async function setting(name: string, settings: Record<string, string | number> = {}): Promise<string> {
  const result = await client.query({ query: `SELECT toString(getSetting({name:String})) AS v`, query_params: { name }, format: 'JSONEachRow', clickhouse_settings: settings });
  const [row] = await result.json<{ v: string }>();
  return row.v;
}

test('answers /ping, and SELECT version() with the ClickHouse version chDB embeds', async () => {
  const ping = await fetch(`${server.url}/ping`);
  assert.equal(await ping.text(), 'Ok.\n');
  assert.equal(await store.ping(), true);
  const [row] = await store.query<{ v: string }>('SELECT version() AS v');
  assert.equal(row.v, server.version);
  // The point of the fixture: a modern server (Debian's ClickHouse is 18.16).
  assert.ok(Number(row.v.split('.')[0]) >= 25, `version ${row.v}`);
});

test('migrates the project schema over HTTP; a second run applies nothing', async () => {
  const retention = { traces: 3, logs: 3, metrics: 7 };
  const first = await migrate(store, retention);
  assert.deepEqual(first.applied, MIGRATIONS.map((m) => m.version));
  const tables = await store.query<{ name: string }>('SELECT name FROM system.tables WHERE database = currentDatabase()');
  const names = tables.map((t) => t.name);
  assert.ok(names.includes(TRACES_TABLE) && names.includes(MIGRATIONS_TABLE), names.join(','));
  const second = await migrate(store, retention);
  assert.deepEqual(second.applied, []);
  const versions = await store.query<{ version: number }>(`SELECT version FROM ${MIGRATIONS_TABLE} FINAL ORDER BY version`);
  assert.deepEqual(versions.map((v) => v.version), MIGRATIONS.map((m) => m.version));
});

test('inserts rows and finds them by bound parameters, quotes, tabs and backslashes included', async () => {
  await store.command('CREATE TABLE rows_t (id UInt64, s String, tags Array(String)) ENGINE = MergeTree ORDER BY id');
  const tricky = ["it's", 'tab\there', 'back\\slash', 'new\nline', "both \\' kinds"];
  await store.insert(
    'rows_t',
    tricky.map((s, i) => ({ id: String(18446744073709551615n - BigInt(i)), s, tags: [s, 'common'] })),
  );
  for (const [i, s] of tricky.entries()) {
    const rows = await store.query<{ id: string; s: string }>('SELECT id, s FROM rows_t WHERE s = {s:String}', { s });
    assert.deepEqual(rows, [{ id: String(18446744073709551615n - BigInt(i)), s }], `value ${JSON.stringify(s)}`);
  }
  const tagged = await store.query<{ n: string }>('SELECT count() AS n FROM rows_t WHERE hasAny(tags, {want:Array(String)})', { want: ["it's", 'back\\slash'] });
  assert.equal(tagged[0].n, '2');
});

test('insertRaw with a dedup token stores the body once, and the token does not outlive its request', async () => {
  assert.ok(store.insertRaw);
  await store.command('CREATE TABLE dedup_t (i UInt32) ENGINE = MergeTree ORDER BY i SETTINGS non_replicated_deduplication_window = 100');
  await store.insertRaw('dedup_t', 'JSONEachRow', '{"i":1}\n{"i":2}\n', { dedupToken: 'batch-1' });
  await store.insertRaw('dedup_t', 'JSONEachRow', Buffer.from('{"i":1}\n{"i":2}\n'), { dedupToken: 'batch-1' });
  // Dropped as a duplicate of batch-1 if the token outlived its request. (Sent without the
  // setting at all: the Store always sends one, '' included, which would hide a leak.)
  await client.insert({ table: 'dedup_t', values: [{ i: 3 }], format: 'JSONEachRow' });
  const rows = await store.query<{ i: number }>('SELECT i FROM dedup_t ORDER BY i');
  assert.deepEqual(rows.map((r) => r.i), [1, 2, 3]);
});

test('command runs statements with bound parameters', async () => {
  await store.command('CREATE TABLE cmd_t (n UInt32, s String) ENGINE = MergeTree ORDER BY n');
  await store.command('INSERT INTO cmd_t VALUES ({n:UInt32}, {s:String})', { n: 7, s: "o'clock" });
  assert.deepEqual(await store.query('SELECT n, s FROM cmd_t'), [{ n: 7, s: "o'clock" }]);
});

test('SQL errors reach the caller as ClickHouseError with the engine message, code and HTTP status', async () => {
  await assert.rejects(store.query('SELECT no_such_column'), (err: unknown) => {
    assert.ok(err instanceof ClickHouseError, String(err));
    assert.equal(err.code, '47');
    assert.equal(err.type, 'UNKNOWN_IDENTIFIER');
    assert.match(err.message, /no_such_column/);
    return true;
  });
  const response = await fetch(`${server.url}/?query=${encodeURIComponent('SELECT * FROM no_such_table')}`);
  assert.equal(response.status, 404);
  assert.equal(response.headers.get('x-clickhouse-exception-code'), '60');
  assert.match(await response.text(), /^Code: 60\. DB::Exception: .*no_such_table.*\(UNKNOWN_TABLE\)/s);
});

test('wrong credentials fail with 516 AUTHENTICATION_FAILED, by Basic auth or X-ClickHouse-User/Key', async () => {
  const intruder = createClient({ url: server.url, username: 'default', password: 'wrong' });
  try {
    await assert.rejects(intruder.query({ query: 'SELECT 1' }), (err: unknown) => err instanceof ClickHouseError && err.code === '516');
  } finally {
    await intruder.close();
  }
  const byHeaders = (key: string) =>
    fetch(`${server.url}/?query=${encodeURIComponent('SELECT 1')}`, { headers: { 'X-ClickHouse-User': 'default', 'X-ClickHouse-Key': key } });
  assert.equal(await (await byHeaders('')).text(), '1\n');
  const refused = await byHeaders('wrong');
  assert.equal(refused.status, 403);
  assert.equal(refused.headers.get('x-clickhouse-exception-code'), '516');
});

test('settings, parameters and SET statements last one request, as on a server', async () => {
  const before = await setting('max_threads');
  assert.equal(await setting('max_threads', { max_threads: 1 }), '1');
  assert.equal(await setting('max_threads'), before);
  await store.command('SET max_threads = 1');
  assert.equal(await setting('max_threads'), before);
  assert.deepEqual(await store.query('SELECT {x:String} AS x', { x: 'once' }), [{ x: 'once' }]);
  await assert.rejects(store.query('SELECT {x:String} AS x'), /'x'/);
  const unknown = await fetch(`${server.url}/?no_such_setting=1`, { method: 'POST', body: 'SELECT 1' });
  assert.equal(unknown.headers.get('x-clickhouse-exception-code'), '115');
});

test('concurrent requests each get their own settings and parameters', async () => {
  const answers = await Promise.all(
    Array.from({ length: 16 }, async (_, i) => {
      const result = await client.query({
        query: 'SELECT {i:UInt32} AS i, toString(getSetting(\'max_block_size\')) AS b',
        query_params: { i },
        clickhouse_settings: { max_block_size: String(1000 + i) },
        format: 'JSONEachRow',
      });
      return (await result.json<{ i: number; b: string }>())[0];
    }),
  );
  assert.deepEqual(answers, Array.from({ length: 16 }, (_, i) => ({ i, b: String(1000 + i) })));
});

test('Native and RowBinary bodies insert as they come out of a query', async () => {
  await client.command({ query: 'CREATE TABLE bin_t (i UInt64, s String, a Array(UInt32)) ENGINE = MergeTree ORDER BY i' });
  // Large enough to arrive in many chunks.
  const source = 'SELECT number AS i, toString(number) AS s, range(number % 5)::Array(UInt32) AS a FROM numbers(200000)';
  for (const format of ['Native', 'RowBinary']) {
    await client.command({ query: 'TRUNCATE TABLE bin_t' });
    const out = await client.exec({ query: `${source} FORMAT ${format}` });
    const body = await bytesOf(out.stream);
    const inserted = await client.exec({ query: `INSERT INTO bin_t FORMAT ${format}`, values: Readable.from([body.subarray(0, 1000), body.subarray(1000)]) });
    await bytesOf(inserted.stream);
    const [count] = await (await client.query({ query: 'SELECT count() AS n, sum(i) AS total, sum(length(a)) AS lengths FROM bin_t', format: 'JSONEachRow' })).json<Record<string, string>>();
    const [expected] = await (await client.query({ query: `SELECT count() AS n, sum(i) AS total, sum(length(a)) AS lengths FROM (${source})`, format: 'JSONEachRow' })).json<Record<string, string>>();
    assert.deepEqual(count, expected, format);
  }
});

test("the Store's insertRaw takes a Native body, deduplicated by its token", async () => {
  assert.ok(store.insertRaw);
  await store.command('CREATE TABLE native_t (i UInt32, s String) ENGINE = MergeTree ORDER BY i SETTINGS non_replicated_deduplication_window = 100');
  const body = await bytesOf((await client.exec({ query: 'SELECT number::UInt32 AS i, toString(number) AS s FROM numbers(1000) FORMAT Native' })).stream);
  await store.insertRaw('native_t', 'Native', body, { dedupToken: 'native-1' });
  await store.insertRaw('native_t', 'Native', body, { dedupToken: 'native-1' });
  assert.deepEqual(await store.query('SELECT count() AS n, sum(i) AS total FROM native_t'), [{ n: '1000', total: String((999 * 1000) / 2) }]);
  // The same body in chunks cut mid-value, under a new token: streamed in order, stored again.
  await store.insertRaw('native_t', 'Native', [body.subarray(0, 5), body.subarray(5, 777), body.subarray(777)], { dedupToken: 'native-2' });
  assert.deepEqual(await store.query('SELECT count() AS n, sum(i) AS total, uniqExact(s) AS distinct FROM native_t'), [{ n: '2000', total: String(999 * 1000), distinct: '1000' }]);
});

test('gzip request bodies and compressed answers', async () => {
  const gzipClient = createClient({ url: server.url, compression: { request: true, response: true } });
  try {
    await gzipClient.command({ query: 'CREATE TABLE gz_t (s String) ENGINE = MergeTree ORDER BY s' });
    await gzipClient.insert({ table: 'gz_t', values: [{ s: 'a' }, { s: 'b' }], format: 'JSONEachRow' });
    const rows = await (await gzipClient.query({ query: 'SELECT s FROM gz_t ORDER BY s', format: 'JSONEachRow' })).json();
    assert.deepEqual(rows, [{ s: 'a' }, { s: 'b' }]);
  } finally {
    await gzipClient.close();
  }
  const response = await fetch(`${server.url}/?enable_http_compression=1`, { method: 'POST', body: 'SELECT 1', headers: { 'Accept-Encoding': 'gzip' } });
  assert.equal(response.headers.get('content-encoding'), 'gzip');
  assert.equal(await response.text(), '1\n');
});

test('as a process: killed with -9 the store is unreachable; started again on the same folder and port, the data is back', { timeout: 180_000 }, async () => {
  const dir = join(root, 'child');
  const first = await spawnChdbHttpServer({ dir });
  children.push(first);
  const remote = await createStore({ url: `http://default:@127.0.0.1:${first.port}/default` });
  try {
    await remote.command('CREATE TABLE kept_t (i UInt32) ENGINE = MergeTree ORDER BY i');
    await remote.insert('kept_t', [{ i: 1 }, { i: 2 }]);
    await first.kill('SIGKILL');

    assert.equal(await remote.ping(), false);
    await assert.rejects(remote.query('SELECT 1'), (err: NodeJS.ErrnoException) => {
      assert.ok(!(err instanceof ClickHouseError), 'a connection error, not a server answer');
      assert.match(`${err.code} ${err.message}`, /ECONNREFUSED|ECONNRESET|socket hang up/);
      return true;
    });

    const second = await spawnChdbHttpServer({ dir, port: first.port });
    children.push(second);
    assert.equal(second.port, first.port);
    assert.equal(await remote.ping(), true);
    assert.deepEqual(await remote.query('SELECT i FROM kept_t ORDER BY i'), [{ i: 1 }, { i: 2 }]);
    await remote.insert('kept_t', [{ i: 3 }]);
    assert.deepEqual(await remote.query('SELECT count() AS n FROM kept_t'), [{ n: '3' }]);
    await second.kill('SIGTERM');
  } finally {
    await remote.close();
  }
});
