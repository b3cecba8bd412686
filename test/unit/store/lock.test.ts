import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LogStore } from '../../../src/store/log-store.js';
import { DataDirLockedError } from '../../../src/store/errors.js';
import { removeDir, tempDir } from './fixtures.js';

test('a second store on the same data dir is refused while the first is open, and admitted after', async () => {
  const dir = tempDir();
  try {
    const first = new LogStore({ dataDir: dir, maintenanceIntervalMs: 0 });
    await first.open();
    const second = new LogStore({ dataDir: dir, maintenanceIntervalMs: 0 });
    await assert.rejects(second.open(), (error: unknown) => {
      assert.ok(error instanceof DataDirLockedError);
      assert.equal(error.holderPid, process.pid);
      assert.match(error.message, /in use by process \d+/);
      return true;
    });
    await first.close();
    assert.equal(existsSync(join(dir, 'LOCK')), false);
    const third = new LogStore({ dataDir: dir, maintenanceIntervalMs: 0 });
    await third.open();
    await third.close();
  } finally {
    removeDir(dir);
  }
});

test('a lock left by a dead process is taken over', async () => {
  const dir = tempDir();
  try {
    const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
    const deadPid = Number(child.stdout.toString());
    assert.ok(deadPid > 0);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'LOCK'), `${deadPid}\n`);
    const store = new LogStore({ dataDir: dir, maintenanceIntervalMs: 0 });
    await store.open();
    await store.close();
  } finally {
    removeDir(dir);
  }
});
