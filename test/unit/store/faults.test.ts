import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LogStore } from '../../../src/store/log-store.js';
import { FaultyFileSystem } from '../../../src/store/faulty-fs.js';
import { StoreFailedError } from '../../../src/store/errors.js';
import type { MessageStream } from '../../../src/store/store.js';
import { body, idsOf, queueNamed } from './store-suite.js';
import { removeDir, tempDir } from './fixtures.js';
import { assertConfirmedInOrder } from '../../helpers/confirmed.js';

/**
 * Appends batches through a file system that fails writes and syncs at random. Whatever whenDurable
 * reported durable must come back intact and in order after reopening, across many failures.
 */
for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
  test(`no confirmed message is lost or damaged across injected write/fsync failures (seed ${seed})`, async () => {
    const dir = tempDir();
    const confirmed: number[] = [];
    let next = 0;
    let failures = 0;
    try {
      for (let life = 0; life < 12; life++) {
        const fs = new FaultyFileSystem({ seed: seed * 1000 + life, writeFailure: 0.02, syncFailure: 0.08 });
        const store = new LogStore({ dataDir: dir, maintenanceIntervalMs: 0, segmentBytes: 32 * 1024, writeBufferBytes: 4096, fileSystem: fs });
        let state;
        try {
          state = await store.open();
        } catch (error) {
          failures++;
          await store.close();
          continue; // the open itself hit an injected fault; the data must still be there next time
        }
        const recovered = await idsOf(queueNamed(state, '/q'));
        assertConfirmedInOrder(recovered, confirmed);
        const q = store.stream('/q');
        const failed = await appendUntilFailure(store, q, () => next++, confirmed);
        if (failed) failures++;
        await store.close();
      }
      const store = new LogStore({ dataDir: dir, maintenanceIntervalMs: 0 });
      const state = await store.open();
      assertConfirmedInOrder(await idsOf(queueNamed(state, '/q')), confirmed);
      await store.close();
      assert.ok(failures > 0, 'faults were injected');
      assert.ok(confirmed.length > 100, `enough confirmed (${confirmed.length})`);
    } finally {
      removeDir(dir);
    }
  });
}

/** Batches of appends, each confirmed by whenDurable; stops at the first failure (fail closed). */
async function appendUntilFailure(store: LogStore, q: MessageStream, nextId: () => number, confirmed: number[]): Promise<boolean> {
  for (let batch = 0; batch < 30; batch++) {
    const ids: number[] = [];
    try {
      for (let i = 0; i < 20; i++) {
        const id = nextId();
        q.append(Buffer.from('h'), body(id, 200));
        ids.push(id);
      }
    } catch (error) {
      assert.ok(error instanceof StoreFailedError, String(error));
      return true;
    }
    const error = await new Promise<Error | undefined>((resolve) => store.whenDurable(resolve));
    if (error) {
      assert.ok(error instanceof StoreFailedError);
      // fail closed: later callers hear about it too, and nothing more is accepted
      const again = await new Promise<Error | undefined>((resolve) => store.whenDurable(resolve));
      assert.ok(again instanceof StoreFailedError);
      assert.throws(() => q.append(Buffer.alloc(0), Buffer.alloc(1)), StoreFailedError);
      return true;
    }
    confirmed.push(...ids);
  }
  return false;
}
