/**
 * Kafka's default partitioner for keyed records: toPositive(murmur2(key)) % partitions,
 * bit-for-bit the Java client's Utils.murmur2, so a key lands on the same partition number
 * here as it would on a Kafka cluster with the same partition count.
 */

const SEED = 0x9747b28c;
const M = 0x5bd1e995;

/** Kafka's Utils.murmur2 as a signed 32-bit integer. */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  let h = (SEED ^ length) | 0;
  const length4 = length >>> 2;
  for (let i = 0; i < length4; i++) {
    const i4 = i << 2;
    let k = data[i4] | (data[i4 + 1] << 8) | (data[i4 + 2] << 16) | (data[i4 + 3] << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M);
    h ^= k;
  }
  const tail = length & ~3;
  switch (length & 3) {
    case 3:
      h ^= data[tail + 2] << 16;
    // falls through
    case 2:
      h ^= data[tail + 1] << 8;
    // falls through
    case 1:
      h ^= data[tail];
      h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/** The partition Kafka's Java producer picks for a non-null key. */
export function kafkaPartitionForKey(key: Uint8Array, partitions: number): number {
  // toPositive masks the sign bit (it is not Math.abs), as in the Java client.
  return (murmur2(key) & 0x7fffffff) % partitions;
}

/** The first key of the form `k<n>` that lands in `partition`: for tests placing records on a partition. */
export function keyForPartition(partition: number, partitions: number): Buffer {
  if (!Number.isInteger(partition) || partition < 0 || partition >= partitions) throw new Error(`keyForPartition: no partition ${partition} of ${partitions}`);
  for (let i = 0; ; i++) {
    const key = Buffer.from(`k${i}`);
    if (kafkaPartitionForKey(key, partitions) === partition) return key;
  }
}
