import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { API_KEYS_FILE, openFileKeyStore, type FileKeyStoreOptions } from './file-key-store.ts';
import { captureLogger } from './testing/capture-logger.ts';
import { keyStoreContract } from './testing/key-store-contract.ts';
import { waitFor } from './testing/wait-for.ts';

const execFileAsync = promisify(execFile);
const FAST = { pollMs: 50, flushMs: 60_000 };

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'olly-keys-'));
}

keyStoreContract('file', async () => {
  const dir = tempDir();
  return {
    open: () => openFileKeyStore({ dataDir: dir, ...FAST }),
    raw: async () => (existsSync(join(dir, API_KEYS_FILE)) ? readFileSync(join(dir, API_KEYS_FILE), 'utf8') : ''),
    destroy: async () => rmSync(dir, { recursive: true, force: true }),
  };
});

describe('file key store', () => {
  async function withDir(fn: (dir: string, open: (o?: Partial<FileKeyStoreOptions>) => ReturnType<typeof openFileKeyStore>) => Promise<void>) {
    const dir = tempDir();
    const opened: Array<Awaited<ReturnType<typeof openFileKeyStore>>> = [];
    try {
      await fn(dir, async (o = {}) => {
        const s = await openFileKeyStore({ dataDir: dir, ...FAST, ...o });
        opened.push(s);
        return s;
      });
    } finally {
      for (const s of opened) await s.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it('keeps the file readable by its owner only, and leaves no temporary or lock file', () =>
    withDir(async (dir, open) => {
      const store = await open();
      await store.create({ tenant: 'acme', name: 'ingest' });
      assert.equal(statSync(join(dir, API_KEYS_FILE)).mode & 0o777, 0o600);
      assert.deepEqual(readdirSync(dir), [API_KEYS_FILE]);
    }));

  it('loses no key when two processes create at the same time (the lock serialises them)', () =>
    withDir(async (dir, open) => {
      const script = fileURLToPath(new URL('./testing/create-keys-process.ts', import.meta.url));
      const runs = ['acme', 'globex'].map((tenant) => execFileAsync(process.execPath, [script, dir, '40', tenant]));
      await Promise.all(runs);
      const listed = await (await open({ watch: false })).list();
      assert.equal(listed.filter((k) => k.tenant === 'acme').length, 40);
      assert.equal(listed.filter((k) => k.tenant === 'globex').length, 40);
      assert.equal(new Set(listed.map((k) => k.id)).size, 80);
    }));

  it('starts empty when there is no file yet, without creating one', () =>
    withDir(async (dir, open) => {
      const store = await open();
      assert.deepEqual(await store.list(), []);
      assert.equal(existsSync(join(dir, API_KEYS_FILE)), false);
    }));

  it('refuses to open on a broken file, naming it', () =>
    withDir(async (dir, open) => {
      writeFileSync(join(dir, API_KEYS_FILE), '{"version":1,"keys":[{"id":"nope"}]}');
      await assert.rejects(open(), (err: Error) => err.message.includes(join(dir, API_KEYS_FILE)) && err.message.includes('keys.0'));
    }));

  it('keeps serving the last good keys when the file is broken while running, and warns once', () =>
    withDir(async (dir, open) => {
      const logger = captureLogger();
      const running = await open({ logger });
      const writer = await open({ watch: false });
      const before = await writer.create({ tenant: 'acme', name: 'before' });
      await waitFor('the running store loads the key', () => running.resolve(before.key) === 'acme');
      writeFileSync(join(dir, API_KEYS_FILE), 'not json');
      await waitFor('a warning about the broken file', () => logger.warnings.length > 0);
      assert.equal(running.resolve(before.key), 'acme');
      assert.match(logger.warnings[0], /unreadable/);
      // Several polls later still one warning: the same broken file is reported once.
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(logger.warnings.length, 1);
    }));

  it('flushes last use on its timer', () =>
    withDir(async (_dir, open) => {
      const store = await open({ flushMs: 50 });
      const created = await store.create({ tenant: 'acme', name: 'ingest' });
      const reader = await open({ watch: false });
      store.resolve(created.key);
      await waitFor('lastUsedAt written', async () => (await reader.list())[0].lastUsedAt !== null);
    }));
});
