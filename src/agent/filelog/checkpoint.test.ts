import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CheckpointError, decodeCheckpoint, encodeCheckpoint } from './checkpoint.ts';

describe('checkpoint state', () => {
  test('round-trips file positions', () => {
    const state = { files: [{ path: '/var/log/a.log', dev: '2049', ino: '18446744073709551615', fingerprint: { length: 1024, hash: 'ab12' }, offset: 123456 }] };
    assert.deepEqual(decodeCheckpoint(encodeCheckpoint(state)), state);
  });

  test('a bad state is refused with the field named', () => {
    const bad: [string, RegExp][] = [
      ['nope', /not JSON/],
      ['[]', /must be a JSON object/],
      ['{"v":2,"files":[]}', /field v must be 1/],
      ['{"v":1}', /field files must be an array/],
      ['{"v":1,"files":[{"path":"/a","dev":"1","ino":"2","fpLen":0,"fp":"00","offset":-1}]}', /files\[0\]\.offset/],
      ['{"v":1,"files":[{"path":"/a","dev":1,"ino":"2","fpLen":0,"fp":"00","offset":0}]}', /files\[0\]\.dev must be a string/],
      ['{"v":1,"files":[{"path":"/a","dev":"1","ino":"2","fpLen":2000,"fp":"00","offset":0}]}', /files\[0\]\.fpLen/],
    ];
    for (const [text, re] of bad) assert.throws(() => decodeCheckpoint(text), (err: Error) => err instanceof CheckpointError && re.test(err.message), text);
  });
});
