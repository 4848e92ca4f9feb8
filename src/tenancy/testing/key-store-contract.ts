/**
 * The behaviour every KeyStore shares, run against each implementation by its test file.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { KeyStoreInputError } from '../key-records.ts';
import type { KeyStore } from '../types.ts';
import { waitFor } from './wait-for.ts';

export interface ContractBacking {
  /** A store on this backing, with its timers running (as in a server process). */
  open(): Promise<KeyStore>;
  /** Everything the backing holds, as text: what an attacker reading the file or Redis would see. */
  raw(): Promise<string>;
  /** Removes the backing; stores opened on it are closed before. */
  destroy(): Promise<void>;
}

/** A fresh, empty backing per test, so tests neither see nor disturb each other. */
export type BackingFactory = () => Promise<ContractBacking>;

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

export function keyStoreContract(name: string, newBacking: BackingFactory): void {
  describe(`KeyStore contract: ${name}`, () => {
    /** Runs fn with n stores on one fresh backing, closing everything after, pass or fail. */
    async function withStores(n: number, fn: (stores: KeyStore[], backing: ContractBacking) => Promise<void>): Promise<void> {
      const backing = await newBacking();
      const stores: KeyStore[] = [];
      try {
        for (let i = 0; i < n; i++) stores.push(await backing.open());
        await fn(stores, backing);
      } finally {
        for (const s of stores) await s.close();
        await backing.destroy();
      }
    }

    it('a created key resolves to its tenant and nothing else does', () =>
      withStores(1, async ([store]) => {
        const created = await store.create({ tenant: 'acme', name: 'ci pipeline' });
        assert.match(created.key, /^olly_[A-Za-z0-9_-]{32}$/);
        assert.match(created.id, /^key_[0-9a-f]{16}$/);
        assert.equal(created.prefix, created.key.slice(0, 10));
        assert.equal(created.tenant, 'acme');
        assert.equal(created.name, 'ci pipeline');
        assert.equal(created.lastUsedAt, null);
        assert.equal(created.revokedAt, undefined);
        assert.equal(store.resolve(created.key), 'acme');
        assert.equal(store.resolve(created.key + 'x'), null);
        assert.equal(store.resolve(created.key.slice(0, -1)), null);
        assert.equal(store.resolve(''), null);
      }));

    it('list tells keys apart without ever giving a key, and filters by tenant', () =>
      withStores(1, async ([store]) => {
        const a = await store.create({ tenant: 'acme', name: 'ingest' });
        const b = await store.create({ tenant: 'globex', name: 'grafana' });
        const all = await store.list();
        // Both may share a millisecond of creation, so order is not what this test is about.
        assert.deepEqual(
          all.map((k) => [k.id, k.tenant, k.name, k.prefix]).sort((x, y) => x[1].localeCompare(y[1])),
          [
            [a.id, 'acme', 'ingest', a.prefix],
            [b.id, 'globex', 'grafana', b.prefix],
          ],
        );
        const text = JSON.stringify(all);
        assert.ok(!text.includes(a.key) && !text.includes(b.key), 'a listing must not hold a key');
        assert.ok(all.every((k) => !('key' in k) && !('hash' in k)));
        assert.deepEqual((await store.list('globex')).map((k) => k.id), [b.id]);
        assert.deepEqual(await store.list('nobody'), []);
      }));

    it('stores only the SHA-256 of a key', () =>
      withStores(1, async ([store], backing) => {
        const created = await store.create({ tenant: 'acme', name: 'ingest' });
        const raw = await backing.raw();
        assert.ok(raw.includes(sha256(created.key)), 'the hash is what is stored');
        assert.ok(!raw.includes(created.key), 'the key itself must not be stored');
      }));

    it('a revoked key stops resolving at once, stays listed with its time, and other keys go on', () =>
      withStores(1, async ([store]) => {
        const doomed = await store.create({ tenant: 'acme', name: 'leaked' });
        const kept = await store.create({ tenant: 'acme', name: 'kept' });
        const revoked = await store.revoke(doomed.id);
        assert.equal(revoked.id, doomed.id);
        assert.ok(revoked.revokedAt && !Number.isNaN(Date.parse(revoked.revokedAt)));
        assert.equal(store.resolve(doomed.key), null);
        assert.equal(store.resolve(kept.key), 'acme');
        const again = await store.revoke(doomed.id);
        assert.equal(again.revokedAt, revoked.revokedAt, 'revoking twice keeps the first time');
        const listed = await store.list();
        assert.equal(listed.find((k) => k.id === doomed.id)?.revokedAt, revoked.revokedAt);
        assert.equal(listed.find((k) => k.id === kept.id)?.revokedAt, undefined);
      }));

    it('rejects bad input with an error naming the field', () =>
      withStores(1, async ([store]) => {
        const rejects = (p: Promise<unknown>, field: string) =>
          assert.rejects(p, (err: unknown) => err instanceof KeyStoreInputError && err.field === field && err.message.startsWith(`${field}: `));
        await rejects(store.create({ tenant: 'has space', name: 'x' }), 'tenant');
        await rejects(store.create({ tenant: 'a'.repeat(65), name: 'x' }), 'tenant');
        await rejects(store.create({ tenant: '', name: 'x' }), 'tenant');
        await rejects(store.create({ tenant: 'acme', name: '' }), 'name');
        await rejects(store.create({ tenant: 'acme', name: 'x'.repeat(101) }), 'name');
        await rejects(store.create({ tenant: 'acme', name: 'evil\u001b[2Jname' }), 'name');
        await rejects(store.revoke('not-an-id'), 'id');
        await rejects(store.revoke('key_0000000000000000'), 'id');
        await rejects(store.list('../etc'), 'tenant');
        assert.deepEqual(await store.list(), [], 'nothing was created by the rejected calls');
      }));

    it('notes use on resolve and writes it on flush, not on the request', () =>
      withStores(2, async ([store, other]) => {
        const created = await store.create({ tenant: 'acme', name: 'ingest' });
        const unused = await store.create({ tenant: 'acme', name: 'unused' });
        assert.equal(store.resolve(created.key), 'acme');
        assert.equal((await other.list()).find((k) => k.id === created.id)?.lastUsedAt, null, 'not written before the flush');
        await store.flushLastUsed();
        const listed = await other.list();
        const used = listed.find((k) => k.id === created.id)?.lastUsedAt;
        assert.ok(used && !Number.isNaN(Date.parse(used)) && used >= created.createdAt, `lastUsedAt after creation, got ${used}`);
        assert.equal(listed.find((k) => k.id === unused.id)?.lastUsedAt, null);
      }));

    it('a last-used flush never undoes a revocation made elsewhere', () =>
      withStores(2, async ([store, other]) => {
        const created = await store.create({ tenant: 'acme', name: 'ingest' });
        assert.equal(store.resolve(created.key), 'acme');
        await other.revoke(created.id);
        await store.flushLastUsed();
        const listed = (await other.list())[0];
        assert.ok(listed.revokedAt, 'still revoked after the flush');
        assert.ok(listed.lastUsedAt, 'and the use is recorded');
        await store.refresh();
        assert.equal(store.resolve(created.key), null);
      }));

    it("another process's store sees a new key, then its revocation", () =>
      withStores(2, async ([store, other]) => {
        const created = await store.create({ tenant: 'acme', name: 'ingest' });
        await waitFor('the other store resolves the new key', () => other.resolve(created.key) === 'acme');
        await store.revoke(created.id);
        await waitFor('the other store drops the revoked key', () => other.resolve(created.key) === null);
      }));

    it('keys outlive the store that made them', async () => {
      const backing = await newBacking();
      try {
        const first = await backing.open();
        const created = await first.create({ tenant: 'acme', name: 'ingest' });
        await first.close();
        const second = await backing.open();
        try {
          assert.equal(second.resolve(created.key), 'acme');
          assert.deepEqual((await second.list()).map((k) => k.id), [created.id]);
        } finally {
          await second.close();
        }
      } finally {
        await backing.destroy();
      }
    });
  });
}
