/**
 * Exactly-once across kill -9: a child process runs the consumer over a pre-filled bus and is
 * SIGKILLed at random moments, several rounds; a final run drains. Every row must be stored once.
 * The chDB folder is only ever opened by the children (one chDB data path per process).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createEmbeddedBus } from '../bus/index.ts';
import { LOGS_TABLE, TRACES_TABLE } from './schema.ts';
import { logRecord, traceRecord } from './test-records.ts';

const CHILD = fileURLToPath(new URL('./consumer.crash-child.ts', import.meta.url));
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ollystack-crash-'));
const busDir = path.join(root, 'bus');
const chdbDir = path.join(root, 'chdb');
after(() => fs.rmSync(root, { recursive: true, force: true }));

const RECORDS = 1500;
const PER_RECORD = 5;

/** Runs the draining child to completion and returns its stdout. */
function runDrain(): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, busDir, chdbDir, '--drain'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const guard = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(guard);
      if (code === 0) resolve(stdout);
      else reject(new Error(`drain child exited with ${code ?? signal}: ${stderr}`));
    });
  });
}

test('rows are stored exactly once across repeated SIGKILLs', { timeout: 240_000 }, async () => {
  const bus = await createEmbeddedBus({ dir: busDir });
  await bus.ensureTopics([
    { name: 'traces', partitions: 3, retentionMs: 86_400_000 },
    { name: 'logs', partitions: 3, retentionMs: 86_400_000 },
  ]);
  // Enough records that six short runs cannot drain them.
  const traces = [];
  const logs = [];
  for (let i = 0; i < RECORDS; i++) {
    traces.push({ ...traceRecord('t-crash', i * PER_RECORD, PER_RECORD), key: Buffer.from(`k${i}`) });
    logs.push({ ...logRecord('t-crash', i * PER_RECORD, PER_RECORD), key: Buffer.from(`k${i}`) });
  }
  await bus.produce('traces', traces);
  await bus.produce('logs', logs);
  await bus.close();

  let kills = 0;
  for (let round = 0; round < 6; round++) {
    // Growing delays: under load the child needs longer before its first commit.
    const delay = 100 * (round + 1) + Math.floor(Math.random() * 300);
    if ((await runKilled(delay)).killed) kills++;
  }
  assert.equal(kills, 6);
  // The kills must have landed mid-stream: some work committed, some left for the drain.
  const probe = await createEmbeddedBus({ dir: busDir });
  let committed = 0;
  let remaining = 0;
  for (const t of ['traces', 'logs']) {
    for (const p of await probe.lag('crash', t)) {
      committed += p.committed;
      remaining += p.lag;
    }
  }
  await probe.close();
  assert.ok(committed > 0 && remaining > 0, `kills did not land mid-stream: committed ${committed}, remaining ${remaining}`);
  const stdout = await runDrain();
  const counts = JSON.parse(stdout.split('\n').find((l) => l.startsWith('{')) ?? '{}');
  const expected = RECORDS * PER_RECORD;
  assert.deepEqual(counts[TRACES_TABLE], { rows: expected, distinct: expected });
  assert.deepEqual(counts[LOGS_TABLE], { rows: expected, distinct: expected });
});

/** Starts a child and SIGKILLs it `delayMs` after it reports ready. */
function runKilled(delayMs: number): Promise<{ killed: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, busDir, chdbDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let armed = false;
    const guard = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.stdout.on('data', (d: Buffer) => {
      if (!armed && d.toString().includes('ready')) {
        armed = true;
        setTimeout(() => child.kill('SIGKILL'), delayMs);
      }
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(guard);
      if (signal === 'SIGKILL') resolve({ killed: true });
      else if (code === 0) resolve({ killed: false });
      else reject(new Error(`child exited with ${code} before being killed: ${stderr}`));
    });
  });
}
