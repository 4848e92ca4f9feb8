import assert from 'node:assert/strict';
import { it } from 'node:test';
import { combineKeyResolvers } from './composite.ts';
import { StaticKeyResolver } from './keys.ts';

it('answers from the first resolver that knows the key, so configured keys win', () => {
  const configured = new StaticKeyResolver();
  configured.add('configured-key-0001', 'default');
  configured.add('shared-key-000001', 'from-config');
  const stored = new StaticKeyResolver();
  stored.add('stored-key-000001', 'acme');
  stored.add('shared-key-000001', 'from-store');
  const keys = combineKeyResolvers(configured, stored);
  assert.equal(keys.resolve('configured-key-0001'), 'default');
  assert.equal(keys.resolve('stored-key-000001'), 'acme');
  assert.equal(keys.resolve('shared-key-000001'), 'from-config');
  assert.equal(keys.resolve('unknown-key-00001'), null);
  assert.equal(keys.resolve(''), null);
});
