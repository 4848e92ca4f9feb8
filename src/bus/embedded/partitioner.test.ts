import { test } from 'node:test';
import assert from 'node:assert/strict';
import { murmur2, kafkaPartitionForKey } from './partitioner.ts';

// Vectors from Apache Kafka's UtilsTest.testMurmur2 (the Java client's own expectations).
const KAFKA_VECTORS: Array<[string, number]> = [
  ['21', -973932308],
  ['foobar', -790332482],
  ['a-little-bit-long-string', -985981536],
  ['a-little-bit-longer-string', -1486304829],
  ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
  ['abc', 479470107],
];

test('murmur2 matches the Java client for every tail length', () => {
  for (const [input, expected] of KAFKA_VECTORS) {
    assert.equal(murmur2(Buffer.from(input)), expected, `murmur2(${input})`);
  }
});

test('partition masks the sign bit rather than taking abs', () => {
  // "21" hashes negative: Java's toPositive(h) = h & 0x7fffffff.
  const masked = -973932308 & 0x7fffffff;
  for (const n of [1, 3, 7, 12, 100]) {
    assert.equal(kafkaPartitionForKey(Buffer.from('21'), n), masked % n);
  }
});

test('partition is always within range', () => {
  for (let i = 0; i < 2000; i++) {
    const p = kafkaPartitionForKey(Buffer.from(`tenant-${i}`), 7);
    assert.ok(p >= 0 && p < 7 && Number.isInteger(p));
  }
});
