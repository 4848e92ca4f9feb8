/**
 * Topics on disk: `<dir>/topics/<name>/topic.json` holds the spec (partitions, retention by age and size)
 * and the topic's id, and `<dir>/topics/<name>/<partition>/` holds that partition's segments.
 */
import fs from 'node:fs';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { TopicSpec } from '../types.ts';
import { PartitionLog } from './partition-log.ts';
import type { PartitionLogOptions } from './partition-log.ts';
import { writeFileAtomicSync, fsyncDirSync } from './fs-util.ts';

/** Retention value meaning "keep forever" (Kafka's retention.ms=-1). */
export const RETAIN_FOREVER = -1;
const MAX_PARTITIONS = 10_000;
const TOPIC_META_FILE = 'topic.json';

export interface Topic {
  spec: TopicSpec;
  /**
   * A random UUID drawn when the topic is created (Kafka's topic id): a topic created again
   * under the same name, or in a new data folder, gets another one, though its offsets start
   * at 0 again.
   */
  id: string;
  dir: string;
  partitions: PartitionLog[];
  /** Next partition for a null-key record (round robin). */
  nextRoundRobin: number;
}

/** Kafka's legal topic names; they also make safe folder names. */
export function validateTopicName(name: unknown, field = 'topic'): string {
  if (typeof name !== 'string' || !/^[a-zA-Z0-9._-]{1,249}$/.test(name) || name === '.' || name === '..') {
    throw new Error(`${field} must be 1-249 characters of [a-zA-Z0-9._-] (and not "." or ".."), got ${JSON.stringify(name)}`);
  }
  return name;
}

export function validateTopicSpec(spec: TopicSpec): void {
  if (spec === null || typeof spec !== 'object') throw new Error('topic spec must be an object');
  validateTopicName(spec.name, 'topic spec name');
  if (!Number.isInteger(spec.partitions) || spec.partitions < 1 || spec.partitions > MAX_PARTITIONS) {
    throw new Error(`topic spec ${spec.name}: partitions must be an integer 1..${MAX_PARTITIONS}, got ${spec.partitions}`);
  }
  if (!(spec.retentionMs === RETAIN_FOREVER || (Number.isSafeInteger(spec.retentionMs) && spec.retentionMs > 0))) {
    throw new Error(`topic spec ${spec.name}: retentionMs must be a positive integer or -1 (forever), got ${spec.retentionMs}`);
  }
  if (spec.retentionBytes !== undefined && !(Number.isSafeInteger(spec.retentionBytes) && spec.retentionBytes > 0)) {
    throw new Error(`topic spec ${spec.name}: retentionBytes must be a positive integer (bytes per partition) or absent, got ${spec.retentionBytes}`);
  }
}

export function topicsRoot(dataDir: string): string {
  return path.join(dataDir, 'topics');
}

/** Loads every topic folder that has a metadata file. */
export function loadTopics(dataDir: string, options: PartitionLogOptions): Map<string, Topic> {
  const root = topicsRoot(dataDir);
  fs.mkdirSync(root, { recursive: true });
  const topics = new Map<string, Topic>();
  for (const name of fs.readdirSync(root)) {
    const metaFile = path.join(root, name, TOPIC_META_FILE);
    if (!fs.existsSync(metaFile)) continue;
    let meta: TopicSpec & { id?: unknown };
    try {
      meta = JSON.parse(fs.readFileSync(metaFile, 'utf8')) as TopicSpec & { id?: unknown };
      validateTopicSpec(meta);
      if (meta.id !== undefined && !(typeof meta.id === 'string' && meta.id !== '')) throw new Error(`id must be a non-empty string, got ${JSON.stringify(meta.id)}`);
    } catch (err) {
      throw new Error(`bus: bad topic metadata ${metaFile}: ${(err as Error).message}`, { cause: err });
    }
    if (meta.name !== name) throw new Error(`bus: topic metadata ${metaFile} names topic ${meta.name}, folder is ${name}`);
    // A topic written before topics had ids gets one now, kept from then on.
    const topic = openTopicPartitions(path.join(root, name), meta, meta.id ?? randomUUID(), options);
    if (meta.id === undefined) writeTopicMeta(topic);
    topics.set(name, topic);
  }
  return topics;
}

export function createTopic(dataDir: string, spec: TopicSpec, options: PartitionLogOptions): Topic {
  const root = topicsRoot(dataDir);
  const dir = path.join(root, spec.name);
  fs.mkdirSync(dir, { recursive: true });
  const topic = openTopicPartitions(dir, spec, randomUUID(), options);
  // Metadata last: a topic folder without it is ignored at open, never half-loaded.
  writeTopicMeta(topic);
  fsyncDirSync(root);
  return topic;
}

export function writeTopicMeta(topic: Topic): void {
  const { name, partitions, retentionMs, retentionBytes } = topic.spec;
  writeFileAtomicSync(path.join(topic.dir, TOPIC_META_FILE), JSON.stringify({ name, partitions, retentionMs, retentionBytes, id: topic.id }));
}

function openTopicPartitions(dir: string, spec: TopicSpec, id: string, options: PartitionLogOptions): Topic {
  const own: TopicSpec = { name: spec.name, partitions: spec.partitions, retentionMs: spec.retentionMs };
  if (spec.retentionBytes !== undefined) own.retentionBytes = spec.retentionBytes;
  // Read through the spec, so a cap changed by ensureTopics applies from the next roll on.
  const logOptions: PartitionLogOptions = { ...options, retentionBytes: () => own.retentionBytes };
  const partitions: PartitionLog[] = [];
  for (let p = 0; p < spec.partitions; p++) {
    partitions.push(PartitionLog.open(spec.name, p, path.join(dir, String(p)), logOptions));
  }
  return { spec: own, id, dir, partitions, nextRoundRobin: 0 };
}
