import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Command, CommanderError } from 'commander';
import { API_KEYS_FILE, openFileKeyStore, openRedisKeyStore } from '../tenancy/index.ts';
import { TEST_REDIS_URL, connectTestRedis, dropPrefix, randomKeyPrefix, type AdminClient } from '../tenancy/testing/redis.ts';
import { waitFor } from '../tenancy/testing/wait-for.ts';
import { CliError } from './errors.ts';
import { registerKeysCommand } from './keys.ts';

/** Runs `ollystack keys <args>` in process, as main.ts would, returning what it printed. */
async function keys(...args: string[]): Promise<{ out: string; err: string }> {
  let out = '';
  let err = '';
  const program = new Command()
    .name('ollystack')
    .exitOverride()
    .configureOutput({ writeOut: (s) => void (out += s), writeErr: (s) => void (err += s) });
  registerKeysCommand(program, { out: (s) => void (out += s), err: (s) => void (err += s) });
  await program.parseAsync(['keys', ...args], { from: 'user' });
  return { out, err };
}

/** Expects a CliError (exit code 2 in main.ts) whose message starts with the field named. */
function rejectsNaming(run: Promise<unknown>, field: string): Promise<void> {
  return assert.rejects(run, (err: unknown) => {
    assert.ok(err instanceof CliError, `expected a CliError, got ${String(err)}`);
    assert.ok(err.message.startsWith(`${field}: `), `expected a message about ${field}, got: ${err.message}`);
    return true;
  });
}

const KEY_LINE = /^ {2}(olly_[A-Za-z0-9_-]{32})$/m;
const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'olly-keys-cli-'));
  dirs.push(dir);
  return dir;
}
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('ollystack keys (data folder)', () => {
  it('create prints the key once with a warning, and the key works; the file holds no key', async () => {
    const dir = tempDir();
    const { out } = await keys('create', '--tenant', 'acme', '--name', 'ci pipeline', '--data-dir', dir);
    const key = KEY_LINE.exec(out)?.[1];
    assert.ok(key, `a key line in:\n${out}`);
    assert.match(out, /Created API key key_[0-9a-f]{16} for tenant 'acme' \(ci pipeline\)/);
    assert.match(out, /only time the key is shown/);
    assert.ok(!readFileSync(join(dir, API_KEYS_FILE), 'utf8').includes(key));
    const store = await openFileKeyStore({ dataDir: dir, watch: false });
    try {
      assert.equal(store.resolve(key), 'acme');
    } finally {
      await store.close();
    }
  });

  it('list prints a table without keys, filters by tenant, and --json gives the same keys', async () => {
    const dir = tempDir();
    const a = JSON.parse((await keys('create', '-t', 'acme', '-n', 'ingest', '-d', dir, '--json')).out);
    const b = JSON.parse((await keys('create', '-t', 'globex', '-n', 'grafana', '-d', dir, '--json')).out);
    const { out } = await keys('list', '--data-dir', dir);
    const lines = out.trimEnd().split('\n');
    assert.match(lines[0], /^ID\s+TENANT\s+NAME\s+PREFIX\s+CREATED\s+LAST USED\s+REVOKED$/);
    assert.equal(lines.length, 3);
    const rowA = lines.find((l) => l.startsWith(a.id));
    assert.ok(rowA, `a row for ${a.id}`);
    assert.match(rowA, new RegExp(`^${a.id}\\s+acme\\s+ingest\\s+${a.prefix}…\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\dZ\\s+-\\s+-$`));
    assert.ok(!out.includes(a.key) && !out.includes(b.key));
    const onlyGlobex = await keys('list', '--tenant', 'globex', '-d', dir);
    assert.ok(onlyGlobex.out.includes(b.id) && !onlyGlobex.out.includes(a.id));
    const json = JSON.parse((await keys('list', '-d', dir, '--json')).out);
    assert.deepEqual(new Set(json.map((k: { id: string }) => k.id)), new Set([a.id, b.id]));
    assert.ok(json.every((k: object) => !('key' in k)));
    assert.equal((await keys('list', '-d', tempDir())).out, 'No API keys.\n');
  });

  it('revoke stops the key in a running stack within its poll, and list shows when', async () => {
    const dir = tempDir();
    const running = await openFileKeyStore({ dataDir: dir, pollMs: 50 });
    try {
      const created = JSON.parse((await keys('create', '-t', 'acme', '-n', 'ingest', '-d', dir, '--json')).out);
      await waitFor('the running stack accepts the new key', () => running.resolve(created.key) === 'acme');
      const { out } = await keys('revoke', created.id, '-d', dir);
      assert.match(out, new RegExp(`^Revoked ${created.id} \\(tenant 'acme', ingest\\) at \\d{4}-`));
      await waitFor('the running stack refuses the revoked key', () => running.resolve(created.key) === null);
      const row = (await keys('list', '-d', dir)).out.split('\n')[1];
      assert.match(row, /\d\d:\d\d:\d\dZ$/, `a revocation time at the end of: ${row}`);
    } finally {
      await running.close();
    }
  });

  it('takes the data folder from the configuration file unless --data-dir is given', async () => {
    const configured = tempDir();
    const explicit = tempDir();
    const configFile = join(tempDir(), 'ollystack.yaml');
    writeFileSync(configFile, `dataDir: ${JSON.stringify(configured)}\n`);
    const viaConfig = JSON.parse((await keys('create', '-t', 'acme', '-n', 'a', '-c', configFile, '--json')).out);
    const viaOption = JSON.parse((await keys('create', '-t', 'acme', '-n', 'b', '-c', configFile, '-d', explicit, '--json')).out);
    assert.deepEqual(JSON.parse((await keys('list', '-d', configured, '--json')).out).map((k: { id: string }) => k.id), [viaConfig.id]);
    assert.deepEqual(JSON.parse((await keys('list', '-d', explicit, '--json')).out).map((k: { id: string }) => k.id), [viaOption.id]);
  });

  it('names the field of bad input', async () => {
    const dir = tempDir();
    await rejectsNaming(keys('create', '--name', 'x', '-d', dir), '--tenant');
    await rejectsNaming(keys('create', '--tenant', 'acme', '-d', dir), '--name');
    await rejectsNaming(keys('create', '--tenant', 'has space', '--name', 'x', '-d', dir), '--tenant');
    await rejectsNaming(keys('create', '--tenant', 'a'.repeat(65), '--name', 'x', '-d', dir), '--tenant');
    await rejectsNaming(keys('create', '--tenant', 'acme', '--name', '', '-d', dir), '--name');
    await rejectsNaming(keys('list', '--tenant', '../x', '-d', dir), '--tenant');
    await rejectsNaming(keys('revoke', 'nope', '-d', dir), '<id>');
    await rejectsNaming(keys('revoke', 'key_0123456789abcdef', '-d', dir), '<id>');
    await rejectsNaming(keys('list', '--redis', 'http://127.0.0.1:6379'), '--redis');
    await rejectsNaming(keys('list', '--redis', TEST_REDIS_URL, '--data-dir', dir), '--redis, --data-dir');
    await rejectsNaming(keys('list', '--redis-prefix', 'x:', '--data-dir', dir), '--redis-prefix');
    assert.equal((await keys('list', '-d', dir)).out, 'No API keys.\n', 'nothing was created by the rejected calls');
  });

  it('has --help on every subcommand', async () => {
    for (const [sub, expected] of [
      ['create', ['--tenant', '--name', '--data-dir', '--redis', '--json']],
      ['list', ['--tenant', '--data-dir', '--redis', '--json']],
      ['revoke', ['<id>', '--data-dir', '--redis']],
    ] as const) {
      let help = '';
      const program = new Command().name('ollystack').exitOverride().configureOutput({ writeOut: (s) => void (help += s) });
      registerKeysCommand(program);
      await assert.rejects(program.parseAsync(['keys', sub, '--help'], { from: 'user' }), (err: unknown) => err instanceof CommanderError && err.code === 'commander.helpDisplayed');
      assert.match(help, new RegExp(`Usage: ollystack keys ${sub}`));
      for (const word of expected) assert.ok(help.includes(word), `${sub} --help mentions ${word}`);
    }
  });
});

describe('ollystack keys (Redis)', () => {
  let admin: AdminClient | undefined;
  const prefixes: string[] = [];
  after(async () => {
    if (admin) for (const p of prefixes) await dropPrefix(admin, p);
    await admin?.close();
  });

  it('create, list and revoke against Redis, seen by a running gateway', async () => {
    admin ??= await connectTestRedis();
    const prefix = randomKeyPrefix();
    prefixes.push(prefix);
    const target = ['--redis', TEST_REDIS_URL, '--redis-prefix', prefix];
    const gateway = await openRedisKeyStore({ url: TEST_REDIS_URL, keyPrefix: prefix, refreshMs: 3_600_000 });
    try {
      const { out } = await keys('create', '-t', 'acme', '-n', 'ingest', ...target);
      const key = KEY_LINE.exec(out)?.[1];
      assert.ok(key, `a key line in:\n${out}`);
      await waitFor('the gateway accepts the new key', () => gateway.resolve(key) === 'acme');
      const listed = JSON.parse((await keys('list', '--json', ...target)).out);
      assert.equal(listed.length, 1);
      assert.ok(!JSON.stringify(listed).includes(key));
      await keys('revoke', listed[0].id, ...target);
      await waitFor('the gateway refuses the revoked key', () => gateway.resolve(key) === null);
      assert.ok(JSON.parse((await keys('list', '--json', ...target)).out)[0].revokedAt);
    } finally {
      await gateway.close();
    }
  });

  it('uses redis.url and redis.keyPrefix from the configuration when no option names a store', async () => {
    admin ??= await connectTestRedis();
    const prefix = randomKeyPrefix();
    prefixes.push(prefix);
    const configFile = join(tempDir(), 'ollystack.yaml');
    writeFileSync(configFile, `redis:\n  url: ${JSON.stringify(TEST_REDIS_URL)}\n  keyPrefix: ${JSON.stringify(prefix)}\n`);
    const created = JSON.parse((await keys('create', '-t', 'acme', '-n', 'ingest', '-c', configFile, '--json')).out);
    assert.ok(await admin.hExists(`${prefix}api-keys`, createHash('sha256').update(created.key).digest('hex')));
    // --data-dir still wins over the configured Redis.
    const dir = tempDir();
    await keys('create', '-t', 'acme', '-n', 'local', '-c', configFile, '-d', dir);
    assert.equal(JSON.parse((await keys('list', '-d', dir, '--json')).out)[0].name, 'local');
    assert.equal(await admin.hLen(`${prefix}api-keys`), 1);
  });

  it('says which option points at an unreachable Redis', async () => {
    await rejectsNaming(keys('list', '--redis', 'redis://127.0.0.1:1'), '--redis');
  });
});
