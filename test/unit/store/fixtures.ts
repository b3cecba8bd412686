/** Temp data dirs and LogStore fixtures for the store tests. Exports only. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LogStore, type LogStoreOptions } from '../../../src/store/log-store.js';
import type { StoreFixture } from './store-suite.js';

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'warren-store-'));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export function logFixture(options: Partial<LogStoreOptions> = {}): () => Promise<StoreFixture & { dir: string }> {
  return async () => {
    const dir = tempDir();
    return {
      dir,
      create: () => new LogStore({ maintenanceIntervalMs: 0, ...options, dataDir: dir }),
      cleanup: async () => removeDir(dir),
    };
  };
}
