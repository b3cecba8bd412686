import * as fs from 'node:fs';
import { join } from 'node:path';
import { DataDirLockedError } from './errors.js';

export const LOCK_FILE = 'LOCK';

/**
 * Exclusive ownership of a data dir: a LOCK file holding the owner's pid, created with O_EXCL. A lock left
 * by a dead process is taken over; one held by a live process (this one included) never is. Node has no
 * flock, so two brokers racing for the same stale lock in the same instant are not fully excluded; the
 * loser re-reads the pid and finds the winner.
 */
export class DataDirLock {
  private held = false;

  constructor(
    readonly dataDir: string,
    private readonly pid: number = process.pid,
  ) {}

  acquire(): void {
    const path = join(this.dataDir, LOCK_FILE);
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        fs.writeFileSync(path, `${this.pid}\n`, { flag: 'wx', mode: 0o644 });
        this.held = true;
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const holder = readPid(path);
      if (holder !== undefined && processAlive(holder)) throw new DataDirLockedError(this.dataDir, holder);
      removeStale(path);
    }
    throw new DataDirLockedError(this.dataDir, readPid(path) ?? -1);
  }

  release(): void {
    if (!this.held) return;
    this.held = false;
    const path = join(this.dataDir, LOCK_FILE);
    if (readPid(path) === this.pid) fs.rmSync(path, { force: true });
  }
}

function readPid(path: string): number | undefined {
  try {
    const pid = Number.parseInt(fs.readFileSync(path, 'utf8').trim(), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Signal 0 checks existence; EPERM means it exists but belongs to someone else. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function removeStale(path: string): void {
  fs.rmSync(path, { force: true });
}
