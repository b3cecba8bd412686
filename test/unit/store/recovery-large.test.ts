import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LogStore } from '../../../src/store/log-store.js';
import { durable } from './store-suite.js';
import { removeDir, tempDir } from './fixtures.js';

test('100k small messages over 4 queues, a third acked, recover in order and quickly', async () => {
  const dir = tempDir();
  try {
    const store = new LogStore({ dataDir: dir, maintenanceIntervalMs: 0, segmentBytes: 4 * 1024 * 1024 });
    await store.open();
    const queues = [0, 1, 2, 3].map((i) => store.stream(`/q${i}`));
    const header = Buffer.from('props');
    for (let i = 0; i < 100_000; i++) {
      const payload = Buffer.alloc(64);
      payload.writeUInt32LE(i, 0);
      const q = queues[i % 4]!;
      const handle = q.append(header, payload);
      if (i % 3 === 0) q.remove(handle);
    }
    await durable(store);
    await store.close();

    const again = new LogStore({ dataDir: dir, maintenanceIntervalMs: 0 });
    const started = performance.now();
    const state = await again.open();
    const elapsed = performance.now() - started;
    let total = 0;
    for (const queue of state.streams) {
      const k = Number(queue.stream.name.slice(2));
      const ids = Array.from(queue.handles, (h) => again.readNow(h).body.readUInt32LE(0));
      const expected = [];
      for (let i = k; i < 100_000; i += 4) if (i % 3 !== 0) expected.push(i);
      assert.deepEqual(ids, expected);
      total += ids.length;
    }
    assert.equal(total, 100_000 - 33_334);
    assert.ok(elapsed < 2000, `recovery took ${elapsed.toFixed(0)} ms`);
    await again.close();
  } finally {
    removeDir(dir);
  }
});
