import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { exactlyOnce, startWriter, waitFor, withTempDir } from './testing.ts';

const CHILD = fileURLToPath(new URL('./testing-child.ts', import.meta.url));

function storedBodies(storePath: string): string[] {
  if (!existsSync(storePath)) return [];
  const text = readFileSync(storePath, 'utf8');
  // A line torn by a kill is not durable; the next child cuts it off.
  return text
    .slice(0, text.lastIndexOf('\n') + 1)
    .split('\n')
    .filter(Boolean)
    .flatMap((l) => (JSON.parse(l) as { bodies: string[] }).bodies);
}

async function startChild(storePath: string, glob: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [CHILD, storePath, glob], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the agent child exited early (${code})`)));
    child.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes('ready')) resolve();
    });
  });
  child.removeAllListeners('exit');
  return child;
}

async function kill9(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

describe('filelog crash safety', { timeout: 180_000 }, () => {
  test('kill -9 of the agent under load, three times, then restart: no line of a tailed file missing or repeated', async () => {
    await withTempDir(async (dir) => {
      const storePath = join(dir, 'store.jsonl');
      const glob = `${dir}/*.log`;
      const writer = startWriter(dir, ['a', 'b', 'c'], 10);
      let child: ChildProcess | undefined;
      try {
        for (let run = 0; run < 3; run++) {
          const before = storedBodies(storePath).length;
          child = await startChild(storePath, glob);
          await waitFor(() => storedBodies(storePath).length >= before + 500, `run ${run} storing 500 more records`, 60_000);
          await kill9(child);
          child = undefined;
        }
        child = await startChild(storePath, glob);
        await new Promise((resolve) => setTimeout(resolve, 200));
        const written = await writer.stop();
        await waitFor(() => storedBodies(storePath).length >= written.length, `all ${written.length} lines stored`, 60_000);
        await new Promise((resolve) => setTimeout(resolve, 300));
        const problem = exactlyOnce(storedBodies(storePath), written);
        assert.equal(problem, undefined, problem);
      } finally {
        await writer.stop();
        if (child) await kill9(child);
      }
    });
  });
});
