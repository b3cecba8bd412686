import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { COMPACT_MIN_BYTES, DEFINITIONS_FILE } from '../../../src/store/definitions.js';
import { LogStore } from '../../../src/store/log-store.js';
import { removeDir, tempDir } from './fixtures.js';

/**
 * The definitions journal of a running store stays bounded: record tables (the job library's state)
 * put and delete all the time, and the journal used to be compacted only at open.
 */
function durable(store: LogStore): Promise<void> {
  return new Promise((resolve, reject) => store.whenDurable((error) => (error ? reject(error) : resolve())));
}

const VALUE = { data: 'x'.repeat(400) };

test('definitions journal: compacted while running once the garbage exceeds the live data; every write survives a reopen', async () => {
  const dir = tempDir();
  try {
    const store = new LogStore({ dataDir: dir, maintenanceIntervalMs: 0 });
    await store.open();
    const journal = join(dir, DEFINITIONS_FILE);
    let largest = 0;
    // 60k puts over 200 live keys (~25 MB written, ~90 KB live), with deletes and a commit every 100.
    const live = new Map<string, number>();
    for (let i = 0; i < 60_000; i++) {
      const key = `k${i % 200}`;
      if (i % 7 === 0) {
        store.deleteDefinition('record', key);
        live.delete(key);
      } else {
        store.putDefinition('record', key, { ...VALUE, i });
        live.set(key, i);
      }
      if (i % 100 === 99) {
        // Several rounds in flight at once, as under load (the compaction swaps between rounds).
        void durable(store);
        if (i % 500 === 499) await durable(store);
        largest = Math.max(largest, statSync(journal).size);
      }
    }
    await durable(store);
    assert.ok(largest < 3 * COMPACT_MIN_BYTES, `journal grew to ${largest} bytes`);
    await store.close();

    const again = new LogStore({ dataDir: dir, maintenanceIntervalMs: 0 });
    const state = await again.open();
    const restored = new Map(state.definitions.filter((d) => d.kind === 'record').map((d) => [d.key, (d.value as { i: number }).i]));
    assert.deepEqual([...restored.entries()].sort(), [...live.entries()].sort());
    await again.close();
  } finally {
    removeDir(dir);
  }
});

test('definitions journal: writes made while a compaction runs are in the snapshot that replaces the journal', async () => {
  const dir = tempDir();
  try {
    const store = new LogStore({ dataDir: dir, maintenanceIntervalMs: 0 });
    await store.open();
    for (let i = 0; i < 12_000; i++) store.putDefinition('record', `k${i % 50}`, { ...VALUE, i });
    // This flush starts a compaction; the put after it is written to both files, the next round swaps.
    store.flush();
    store.putDefinition('record', 'last', { i: -1 });
    await durable(store);
    await store.close();
    const again = new LogStore({ dataDir: dir, maintenanceIntervalMs: 0 });
    const state = await again.open();
    const records = state.definitions.filter((d) => d.kind === 'record');
    assert.equal(records.length, 51);
    assert.deepEqual(records.find((d) => d.key === 'last')?.value, { i: -1 });
    assert.equal((records.find((d) => d.key === 'k49')?.value as { i: number }).i, 11_999);
    await again.close();
  } finally {
    removeDir(dir);
  }
});
