import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createStore } from './clickhouse-store.ts';
import { assertSupportedVersion, compareVersions, MIN_SERVER_VERSION, parseServerVersion, redactUrl } from './server-version.ts';

const LEGACY_SCRIPT = fileURLToPath(new URL('../../scripts/services.d/clickhouse-legacy.sh', import.meta.url));

test('versions parse from what version() returns', () => {
  assert.deepEqual(parseServerVersion('18.16.1'), [18, 16, 1]);
  assert.deepEqual(parseServerVersion('24.8.4.13\n'), [24, 8, 4, 13]);
  assert.deepEqual(parseServerVersion('25.3.2.39-lts'), [25, 3, 2, 39]);
  for (const bad of ['', 'abc', '24', 'v24.8']) assert.throws(() => parseServerVersion(bad), /ClickHouse server version: expected numbers with dots/);
});

test('versions compare part by part, numerically', () => {
  assert.ok(compareVersions([18, 16, 1], [22, 2]) < 0);
  assert.ok(compareVersions([22, 10], [22, 2]) > 0);
  assert.ok(compareVersions([22, 1, 99], [22, 2]) < 0);
  assert.equal(compareVersions([22, 2, 0, 0], [22, 2]), 0);
  assert.ok(compareVersions([100, 0], [99, 12, 5]) > 0);
});

test('the minimum is accepted, anything older refused with both versions named', () => {
  assert.equal(MIN_SERVER_VERSION, '22.2');
  for (const ok of ['22.2.1.1', '22.2', '23.8.16.40', '24.8.4.13', '26.7.2.1']) assertSupportedVersion(ok, 'http://h:8123/');
  for (const old of ['18.16.1', '21.12.4.1', '22.1.3.7']) {
    assert.throws(
      () => assertSupportedVersion(old, 'http://h:8123/'),
      new RegExp(`^Error: ClickHouse server ${old.replace(/\./g, '\\.')} at http://h:8123/ is too old: OllyStack needs 22\\.2 or newer \\(.*insert_deduplication_token`),
    );
  }
});

test('shown URLs never carry the password', () => {
  assert.equal(redactUrl(new URL('http://ingest:s3cret@ch:8123/otel')), 'http://ingest:***@ch:8123/otel');
  assert.equal(redactUrl(new URL('http://ch:8123')), 'http://ch:8123/');
});

/** A fake ClickHouse HTTP endpoint: `answer` decides each request's reply. */
async function fakeServer(answer: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => answer(req, res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

test('the version is asked with a plain GET, the form every server version answers', async () => {
  const requests: string[] = [];
  const server = await fakeServer((req, res) => {
    requests.push(`${req.method} ${req.url} ${req.headers.authorization}`);
    res.end('1.1.54343\n');
  });
  try {
    await assert.rejects(
      createStore({ url: `http://ingest:s3cret@${server.url.slice('http://'.length)}/otel` }),
      new RegExp(`^Error: ClickHouse server 1\\.1\\.54343 at http://ingest:\\*\\*\\*@127\\.0\\.0\\.1:\\d+/otel is too old: OllyStack needs 22\\.2 or newer`),
    );
    assert.deepEqual(requests, [`GET /?query=SELECT%20version() Basic ${Buffer.from('ingest:s3cret').toString('base64')}`]);
  } finally {
    await server.close();
  }
});

test('a recent server passes the check and the store opens', async () => {
  const server = await fakeServer((_req, res) => res.end('24.8.4.13\n'));
  try {
    const store = await createStore({ url: server.url });
    assert.equal(store.kind, 'clickhouse');
    await store.close();
  } finally {
    await server.close();
  }
});

test('a server that answers with an error is named with that error, without the password', async () => {
  const server = await fakeServer((_req, res) => {
    res.statusCode = 401;
    res.end('Code: 516. DB::Exception: ingest: Authentication failed: password is incorrect. (AUTHENTICATION_FAILED)');
  });
  const port = new URL(server.url).port;
  try {
    const err = await createStore({ url: `clickhouse://ingest:s3cret@127.0.0.1:${port}/otel` }).then(
      () => assert.fail('expected a rejection'),
      (e: Error) => e,
    );
    assert.match(err.message, new RegExp(`^store\\.url: ClickHouse server at http://ingest:\\*\\*\\*@127\\.0\\.0\\.1:${port}/otel did not answer SELECT version\\(\\): HTTP 401: Code: 516\\. .*Authentication failed`));
    assert.doesNotMatch(err.message, /s3cret/);
  } finally {
    await server.close();
  }
});

test('an unreachable server is named, without the password', async () => {
  // A port that was just free: nothing listens there.
  const server = await fakeServer((_req, res) => res.end());
  const port = new URL(server.url).port;
  await server.close();
  const err = await createStore({ url: `http://ingest:s3cret@127.0.0.1:${port}/otel` }).then(
    () => assert.fail('expected a rejection'),
    (e: Error) => e,
  );
  assert.match(err.message, new RegExp(`^store\\.url: ClickHouse server at http://ingest:\\*\\*\\*@127\\.0\\.0\\.1:${port}/otel is unreachable: ECONNREFUSED`));
  assert.doesNotMatch(err.message, /s3cret/);
});

// The real thing: Debian's clickhouse-server 18.16, started privately by scripts/services.d/clickhouse-legacy.sh.
const legacyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ollystack-clickhouse-18-'));
let legacyPort = '';
let legacyStartError = '';

before(() => {
  const started = spawnSync('bash', [LEGACY_SCRIPT, 'start', legacyDir], { encoding: 'utf8', timeout: 60_000 });
  if (started.status === 0) legacyPort = started.stdout.trim().split('\n').at(-1) ?? '';
  else legacyStartError = `${started.stderr}${started.error?.message ?? ''}`.trim();
});

after(() => {
  spawnSync('bash', [LEGACY_SCRIPT, 'stop', legacyDir], { encoding: 'utf8', timeout: 30_000 });
  fs.rmSync(legacyDir, { recursive: true, force: true });
});

test('a real ClickHouse 18.16 server is refused as too old, naming both versions', async () => {
  assert.ok(
    /^\d+$/.test(legacyPort),
    `ClickHouse 18.16 could not be started (${legacyStartError || 'no port printed'}). ` +
      'Install it with: scripts/services.d/clickhouse-legacy.sh install   (Debian: apt-get install clickhouse-server)',
  );
  await assert.rejects(
    createStore({ url: `http://127.0.0.1:${legacyPort}` }),
    new RegExp(`^Error: ClickHouse server 18\\.16\\.1 at http://127\\.0\\.0\\.1:${legacyPort}/ is too old: OllyStack needs 22\\.2 or newer`),
  );
});
