import assert from 'node:assert/strict';
import { test } from 'node:test';
import { protobufHeaders, startTestReceiver, traceExport } from './http-test-support.ts';

const APP = 'https://app.example.com';

function preflight(origin: string) {
  return {
    method: 'OPTIONS' as const,
    url: '/v1/traces',
    headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,authorization,content-encoding' },
  };
}

test('CORS with listed origins: preflight without an API key, actual responses (refusals too) carry the origin', async () => {
  const r = await startTestReceiver({ corsAllowedOrigins: [APP, 'http://localhost:3000'] });
  try {
    const pre = await r.app.inject(preflight(APP));
    assert.equal(pre.statusCode, 204, pre.body);
    assert.equal(pre.headers['access-control-allow-origin'], APP);
    assert.match(String(pre.headers['access-control-allow-methods']), /\bPOST\b/);
    const allowed = String(pre.headers['access-control-allow-headers']).split(/,\s*/);
    for (const h of ['content-type', 'authorization', 'content-encoding']) assert.ok(allowed.includes(h), `${h} in ${allowed}`);
    assert.ok(Number(pre.headers['access-control-max-age']) > 0);
    assert.match(String(pre.headers.vary), /Origin/);

    const ok = await r.app.inject({ method: 'POST', url: '/v1/traces', payload: Buffer.from(traceExport('web', 2)), headers: { ...protobufHeaders('tenant-a'), origin: APP } });
    assert.equal(ok.statusCode, 200);
    assert.equal(ok.headers['access-control-allow-origin'], APP);
    assert.match(String(ok.headers['access-control-expose-headers']), /retry-after/);

    // The browser exporter must be able to read a refusal.
    const noKey = await r.app.inject({ method: 'POST', url: '/v1/traces', payload: Buffer.from(traceExport('web', 1)), headers: { 'content-type': 'application/x-protobuf', origin: APP } });
    assert.equal(noKey.statusCode, 401);
    assert.equal(noKey.headers['access-control-allow-origin'], APP);

    // Another origin: refused preflight naming the setting, and no CORS header on a request.
    const other = await r.app.inject(preflight('https://evil.example.net'));
    assert.equal(other.statusCode, 403);
    assert.equal(other.headers['access-control-allow-origin'], undefined);
    assert.match(other.body, /gateway\.corsAllowedOrigins/);
    const otherPost = await r.app.inject({ method: 'POST', url: '/v1/traces', payload: Buffer.from(traceExport('web', 1)), headers: { ...protobufHeaders('tenant-a'), origin: 'https://evil.example.net' } });
    assert.equal(otherPost.headers['access-control-allow-origin'], undefined);
  } finally {
    await r.close();
  }
});

test("CORS with '*': any origin; with none configured: no CORS at all", async () => {
  const any = await startTestReceiver({ corsAllowedOrigins: ['*'] });
  try {
    const pre = await any.app.inject(preflight('https://anything.example.org'));
    assert.equal(pre.statusCode, 204);
    assert.equal(pre.headers['access-control-allow-origin'], '*');
    const post = await any.app.inject({ method: 'POST', url: '/v1/logs', payload: Buffer.alloc(0), headers: { ...protobufHeaders('tenant-a'), origin: 'https://anything.example.org' } });
    assert.equal(post.statusCode, 200);
    assert.equal(post.headers['access-control-allow-origin'], '*');
  } finally {
    await any.close();
  }
  const off = await startTestReceiver();
  try {
    const pre = await off.app.inject(preflight(APP));
    assert.equal(pre.statusCode, 404);
    assert.equal(pre.headers['access-control-allow-origin'], undefined);
  } finally {
    await off.close();
  }
});

test('a malformed origin in the setting is refused naming it', async () => {
  await assert.rejects(startTestReceiver({ corsAllowedOrigins: ['https://app.example.com/'] }), /gateway\.corsAllowedOrigins: expected '\*' or an origin/);
});
