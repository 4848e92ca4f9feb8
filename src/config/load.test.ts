import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ConfigError, envKeyFor, loadConfig } from './index.ts';

const dir = mkdtempSync(join(tmpdir(), 'olly-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

test('defaults work with no file and no environment', () => {
  const c = loadConfig({ env: {} });
  assert.equal(c.gateway.httpPort, 4318);
  assert.equal(c.api.port, 8080);
  assert.equal(c.dataDir, './data');
  assert.equal(c.apiKey, undefined);
  assert.deepEqual(c.store.retentionDays, { traces: 30, logs: 30, metrics: 90 });
});

test('a YAML file sets nested keys and keeps the other defaults', () => {
  const c = loadConfig({ env: {}, file: file('a.yaml', 'gateway:\n  httpPort: 14318\nstorage:\n  batchMaxMs: 500\n') });
  assert.equal(c.gateway.httpPort, 14318);
  assert.equal(c.gateway.host, '0.0.0.0');
  assert.equal(c.storage.batchMaxMs, 500);
  assert.equal(c.storage.batchMaxRows, 200_000);
});

test('environment overrides the file, with short names for data folder and key', () => {
  const c = loadConfig({
    file: file('b.yaml', 'gateway:\n  httpPort: 14318\n'),
    env: { OLLYSTACK_GATEWAY__HTTP_PORT: '24318', OLLYSTACK_DATA_DIR: '/srv/olly', OLLYSTACK_API_KEY: 'k'.repeat(20), OLLYSTACK_STORE__RETENTION_DAYS__LOGS: '7' },
  });
  assert.equal(c.gateway.httpPort, 24318);
  assert.equal(c.dataDir, '/srv/olly');
  assert.equal(c.apiKey, 'k'.repeat(20));
  assert.equal(c.store.retentionDays.logs, 7);
  assert.equal(envKeyFor(['gateway', 'maxRequestBytes']), 'OLLYSTACK_GATEWAY__MAX_REQUEST_BYTES');
});

test('errors name the key that is wrong', () => {
  assert.throws(() => loadConfig({ env: {}, file: file('c.yaml', 'gateway:\n  httpPort: 70000\n') }), (err: Error) => {
    assert.ok(err instanceof ConfigError);
    assert.match(err.message, /gateway\.httpPort/);
    return true;
  });
  assert.throws(() => loadConfig({ env: {}, file: file('d.yaml', 'gatway:\n  httpPort: 1\n') }), /unknown key\(s\) 'gatway'/);
  assert.throws(() => loadConfig({ env: { OLLYSTACK_API__PORT: 'eighty' } }), /api\.port/);
  assert.throws(() => loadConfig({ env: { OLLYSTACK_API_KEY: 'short' } }), /apiKey: must be at least 16 characters/);
  assert.throws(() => loadConfig({ env: {}, file: file('e.yaml', 'tenants:\n  - id: "bad id!"\n    apiKeys: ["aaaaaaaaaaaaaaaaaaaa"]\n') }), /tenants\.0\.id/);
});

test('unreadable or non-mapping files give a clear error', () => {
  assert.throws(() => loadConfig({ env: {}, file: join(dir, 'missing.yaml') }), /cannot read configuration file/);
  assert.throws(() => loadConfig({ env: {}, file: file('f.yaml', '- just\n- a list\n') }), /must hold a mapping/);
  assert.throws(() => loadConfig({ env: {}, file: file('g.yaml', 'a: [unclosed\n') }), /not valid YAML/);
});
