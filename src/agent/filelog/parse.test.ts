import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MAX_PARSED_ATTRIBUTES, parseLogLine, parseTime } from './parse.ts';
import { parseLogfmt } from './logfmt.ts';

const T = Date.UTC(2025, 0, 15, 12, 0, 0);

describe('parseLogLine', () => {
  test('JSON lines: message as body, level, time and the other scalar fields as attributes', () => {
    const p = parseLogLine('{"time":"2025-01-15T12:00:00.250Z","level":"warn","msg":"disk almost full","disk":"/dev/sda1","pct":91.5,"n":3,"ok":false,"nested":{"a":1}}');
    assert.equal(p.body, 'disk almost full');
    assert.equal(p.severityNumber, 13);
    assert.equal(p.severityText, 'WARN');
    assert.equal(p.timeUnixMs, T + 250);
    assert.deepEqual(p.attributes, [
      { key: 'disk', value: { stringValue: '/dev/sda1' } },
      { key: 'pct', value: { doubleValue: 91.5 } },
      { key: 'n', value: { intValue: 3 } },
      { key: 'ok', value: { boolValue: false } },
    ]);
  });

  test('JSON: pino numbers, epoch times, message/log fields, @timestamp, and the whole line when there is no message', () => {
    const pino = parseLogLine('{"level":50,"time":1736942400000,"pid":1,"hostname":"h","msg":"boom"}');
    assert.deepEqual([pino.body, pino.severityNumber, pino.severityText, pino.timeUnixMs], ['boom', 17, 'ERROR', T]);
    const docker = parseLogLine('{"log":"hello\\n","stream":"stdout","time":"2025-01-15T12:00:00.123456789Z"}');
    assert.equal(docker.body, 'hello');
    assert.ok(Math.abs(docker.timeUnixMs! - (T + 123.456789)) < 1e-6, `sub-millisecond digits kept: ${docker.timeUnixMs}`);
    const es = parseLogLine('{"@timestamp":"2025-01-15T13:00:00+01:00","severity":"Error","message":"x"}');
    assert.deepEqual([es.body, es.severityNumber, es.timeUnixMs], ['x', 17, T]);
    const seconds = parseLogLine('{"ts":1736942400.5,"lvl":"debug","event":"e"}');
    assert.deepEqual([seconds.body, seconds.severityNumber, seconds.timeUnixMs], ['{"ts":1736942400.5,"lvl":"debug","event":"e"}', 5, T + 500]);
    assert.deepEqual(seconds.attributes, [{ key: 'event', value: { stringValue: 'e' } }]);
  });

  test('JSON attributes are bounded', () => {
    const obj: Record<string, number> = {};
    for (let i = 0; i < 100; i++) obj[`k${i}`] = i;
    assert.equal(parseLogLine(JSON.stringify(obj)).attributes?.length, MAX_PARSED_ATTRIBUTES);
  });

  test('logfmt: level, time and fields parsed, the body stays the whole line', () => {
    const line = 'time=2025-01-15T12:00:00Z level=error msg="payment failed: card declined" user=u-42 retry=true';
    const p = parseLogLine(line);
    assert.equal(p.body, line);
    assert.deepEqual([p.severityNumber, p.severityText, p.timeUnixMs], [17, 'ERROR', T]);
    assert.deepEqual(p.attributes, [
      { key: 'user', value: { stringValue: 'u-42' } },
      { key: 'retry', value: { stringValue: 'true' } },
    ]);
  });

  test('level words near the start, in their usual dress', () => {
    const cases: [string, number | undefined, string | undefined][] = [
      ['2025-01-15 12:00:00,123 INFO  [main] com.shop.App - started', 9, 'INFO'],
      ['[2025-01-15T12:00:00Z] [warning] low memory', 13, 'WARNING'],
      ['Jan 15 12:00:00 host sshd[42]: ERR connection reset', 17, 'ERR'],
      ['2025-01-15T12:00:00.000Z\tdebug\tcache miss', 5, 'DEBUG'],
      ['E0115 level=fatal something', 21, 'FATAL'],
      ['<crit> kernel panic', 21, 'CRIT'],
      ['notice: rotating keys', 10, 'NOTICE'],
      ['TRACE entering handler', 1, 'TRACE'],
      ['2025-01-15 the job failed with an error after retries', undefined, undefined],
      ['INFORMATIONAL message', undefined, undefined],
      ['plain text', undefined, undefined],
    ];
    for (const [line, n, text] of cases) {
      const p = parseLogLine(line);
      assert.equal(p.body, line, 'the body is always the full line');
      assert.equal(p.severityNumber, n, line);
      assert.equal(p.severityText, text, line);
    }
  });

  test('a leading timestamp with a zone gives the time; one without a zone is left alone', () => {
    assert.equal(parseLogLine('2025-01-15T12:00:00.500Z INFO x').timeUnixMs, T + 500);
    assert.equal(parseLogLine('[2025-01-15 14:00:00+02:00] x').timeUnixMs, T);
    assert.equal(parseLogLine('2025-01-15 12:00:00 INFO x').timeUnixMs, undefined);
  });

  test('not-quite JSON or logfmt falls back to the text rules', () => {
    assert.equal(parseLogLine('{"unterminated": ERROR').severityText, 'ERROR');
    assert.equal(parseLogLine('[1,2,3]').severityText, undefined);
    assert.equal(parseLogLine('GET /a?b=c 200').attributes, undefined);
  });
});

describe('parseTime', () => {
  test('epoch seconds, ms, µs, ns and ISO strings with zones', () => {
    assert.equal(parseTime(1736942400), T);
    assert.equal(parseTime(1736942400000), T);
    assert.equal(parseTime(1736942400000000), T);
    assert.equal(parseTime(1736942400000000000), T);
    assert.equal(parseTime('1736942400'), T);
    assert.equal(parseTime('2025-01-15T12:00:00+0000'), T);
    assert.equal(parseTime('2025-01-15T12:00:00-05'), T + 5 * 3600_000);
    assert.equal(parseTime('yesterday'), undefined);
    assert.equal(parseTime(-1), undefined);
    assert.equal(parseTime({}), undefined);
  });
});

describe('parseLogfmt', () => {
  test('quoted values with escapes; bare words and unbalanced quotes are not logfmt', () => {
    assert.deepEqual(parseLogfmt('a=1 b="x \\"y\\" z" c='), [
      ['a', '1'],
      ['b', 'x "y" z'],
      ['c', ''],
    ]);
    assert.equal(parseLogfmt('a=1 bare b=2'), undefined);
    assert.equal(parseLogfmt('a=1 b="open'), undefined);
    assert.equal(parseLogfmt('only=one'), undefined);
  });
});
