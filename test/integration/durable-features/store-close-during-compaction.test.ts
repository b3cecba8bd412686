/**
 * Found by the restart tests here: a broker stopping while a compaction waited for its fdatasync made
 * the sync fail with EBADF (close cancelled the job and closed the file), and that rejection escaped as
 * an unhandledRejection (which kills a `warren server`). Closing must end a compaction quietly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LogStore } from '../../../src/store/log-store.js';

test('closing the store while a compaction syncs its copy neither fails nor leaks a rejection', async () => {
  const escaped: unknown[] = [];
  const onUnhandled = (reason: unknown): void => void escaped.push(reason);
  process.on('unhandledRejection', onUnhandled);
  try {
    let compactionsCaught = 0;
    for (let round = 0; round < 10; round++) {
      const dir = await mkdtemp(join(tmpdir(), 'warren-close-compaction-'));
      try {
        const store = new LogStore({ dataDir: dir, segmentBytes: 64 * 1024, maintenanceIntervalMs: 0 });
        await store.open();
        const q = store.stream('q');
        const handles = Array.from({ length: 400 }, (_, i) => q.append(Buffer.from('h'), Buffer.alloc(1000, i)));
        // Two of every three dead: the sealed segments qualify for compaction.
        handles.forEach((handle, i) => i % 3 !== 2 && q.remove(handle));
        await new Promise<void>((resolve) => store.whenDurable(() => resolve()));
        // Step the compaction until it waits on its sync, then close under it.
        for (let k = 0; k < 100 && !finishing(store); k++) void store.maintain();
        if (finishing(store)) compactionsCaught++;
        await store.close();
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.ok(compactionsCaught > 0, 'the close met a compaction in its final sync at least once');
    assert.deepEqual(escaped, []);
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
});

function finishing(store: LogStore): boolean {
  return (store as unknown as { compactionFinishing: Promise<void> | undefined }).compactionFinishing !== undefined;
}
