import assert from 'node:assert/strict';
import { test } from 'node:test';
import { str } from '../../otlp/index.ts';
import { decodeResource, decodeScope } from './encoding.ts';
import { OriginTable } from './origins.ts';

const resource = (service: string) => ({ attributes: [str('service.name', service)] });

test('the same resource and scope content gives the same origin, across batches', () => {
  const origins = new OriginTable();
  const a = origins.resource(resource('web'), 'https://schema/1');
  assert.equal(origins.resource(resource('web'), 'https://schema/1'), a);
  assert.notEqual(origins.resource(resource('db'), 'https://schema/1'), a);
  assert.notEqual(origins.resource(resource('web'), 'https://schema/2'), a);
  const scope = origins.scope(a, { name: 'tracer', version: '1' }, '');
  assert.equal(origins.scope(a, { name: 'tracer', version: '1' }, undefined), scope);
  assert.notEqual(origins.scope(a, { name: 'tracer', version: '2' }, ''), scope);
  assert.equal(scope.resource, a);
});

test('an absent resource or scope stays absent, apart from an empty one', () => {
  const origins = new OriginTable();
  const absent = origins.resource(undefined, null);
  const empty = origins.resource({}, null);
  assert.notEqual(absent, empty);
  assert.equal(decodeResource(absent.encoded), undefined);
  assert.deepEqual(decodeResource(empty.encoded)?.attributes, []);
  assert.equal(decodeScope(origins.scope(absent, null, null).encoded), undefined);
});

test('origins hold their content encoded, and it decodes back', () => {
  const origins = new OriginTable();
  const origin = origins.scope(origins.resource({ ...resource('web'), droppedAttributesCount: 2 }, 's'), { name: 'tracer', version: '1.2' }, 'u');
  const decoded = decodeResource(origin.resource.encoded);
  assert.equal(decoded?.attributes[0].value?.stringValue, 'web');
  assert.equal(decoded?.droppedAttributesCount, 2);
  assert.equal(decodeScope(origin.encoded)?.version, '1.2');
  assert.equal(origin.schemaUrl, 'u');
  assert.equal(origin.resource.schemaUrl, 's');
});

test('the table of resources stays bounded', () => {
  const origins = new OriginTable();
  for (let i = 0; i < 5000; i++) origins.resource(resource(`service-${i}`), '');
  assert.ok(origins.size <= 1024, `${origins.size} resources interned`);
});
