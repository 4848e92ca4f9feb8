/**
 * One writer per data folder: two processes appending to the same segment files would
 * corrupt them. A lock file holds the owner's pid; a lock left by a dead process (kill -9)
 * is taken over.
 */
import fs from 'node:fs';
import path from 'node:path';

const LOCK_FILE = 'bus.lock';
const openInThisProcess = new Set<string>();

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the folder's lock; returns its release function. */
export function lockDataDir(dir: string): () => void {
  const resolved = path.resolve(dir);
  if (openInThisProcess.has(resolved)) throw new Error(`bus: data folder ${dir} is already open in this process`);
  const file = path.join(resolved, LOCK_FILE);
  for (let attempt = 0; ; attempt++) {
    try {
      fs.writeFileSync(file, String(process.pid), { flag: 'wx' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw err;
      const owner = Number(fs.readFileSync(file, 'utf8').trim());
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && processAlive(owner)) {
        throw new Error(`bus: data folder ${dir} is in use by process ${owner} (lock file ${LOCK_FILE})`, { cause: err });
      }
      fs.rmSync(file, { force: true });
    }
  }
  openInThisProcess.add(resolved);
  return () => {
    openInThisProcess.delete(resolved);
    fs.rmSync(file, { force: true });
  };
}
