import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTimeNs, parseTimeRange } from './time.ts';
import { ApiError } from './errors.ts';

test('Unix milliseconds become nanoseconds', () => {
  assert.equal(parseTimeNs('0'), 0n);
  assert.equal(parseTimeNs('1700000000123'), 1700000000123000000n);
});

test('RFC 3339 keeps the nanosecond fraction and applies the offset', () => {
  const base = BigInt(Date.parse('2024-03-05T06:07:08Z')) * 1_000_000n;
  assert.equal(parseTimeNs('2024-03-05T06:07:08Z'), base);
  assert.equal(parseTimeNs('2024-03-05t06:07:08z'), base);
  assert.equal(parseTimeNs('2024-03-05 06:07:08Z'), base);
  assert.equal(parseTimeNs('2024-03-05T06:07:08.123456789Z'), base + 123456789n);
  assert.equal(parseTimeNs('2024-03-05T06:07:08.5Z'), base + 500000000n);
  // 08:07:08+02:00 is 06:07:08 UTC; 04:37:08-01:30 is 06:07:08 UTC.
  assert.equal(parseTimeNs('2024-03-05T08:07:08+02:00'), base);
  assert.equal(parseTimeNs('2024-03-05T04:37:08-01:30'), base);
});

test('malformed and impossible times are refused', () => {
  for (const bad of ['', 'now', '-5', '12.5', '2024-02-30T00:00:00Z', '2024-13-01T00:00:00Z', '2024-01-01T24:00:00Z',
    '2024-01-01T00:00:00', '2024-01-01', '2024-01-01T00:00:00.1234567890Z', '1969-12-31T23:59:59Z', '2200-01-01T00:00:00Z',
    "1' OR '1'='1"]) {
    assert.equal(parseTimeNs(bad), null, bad);
  }
});

test('range defaults to the hour before now, and to defaults to now', () => {
  const now = 1_800_000_000_000;
  const hourNs = 3_600_000_000_000n;
  assert.deepEqual(parseTimeRange(undefined, undefined, now), { fromNs: BigInt(now) * 1_000_000n - hourNs, toNs: BigInt(now) * 1_000_000n });
  assert.deepEqual(parseTimeRange(String(now - 10_000), undefined, now), { fromNs: BigInt(now - 10_000) * 1_000_000n, toNs: BigInt(now) * 1_000_000n });
  assert.deepEqual(parseTimeRange(undefined, String(now - 10_000), now), { fromNs: BigInt(now - 10_000) * 1_000_000n - hourNs, toNs: BigInt(now - 10_000) * 1_000_000n });
});

test('range errors name the parameter', () => {
  const now = 1_800_000_000_000;
  const message = (fn: () => unknown) => {
    try {
      fn();
    } catch (e) {
      assert.ok(e instanceof ApiError);
      assert.equal(e.statusCode, 400);
      return e.message;
    }
    assert.fail('expected an error');
  };
  assert.match(message(() => parseTimeRange('yesterday', undefined, now)), /^from: /);
  assert.match(message(() => parseTimeRange(undefined, 'x', now)), /^to: /);
  assert.match(message(() => parseTimeRange('2000', '1000', now)), /^to: must be after from/);
  assert.match(message(() => parseTimeRange('1000', '1000', now)), /^to: must be after from/);
});
