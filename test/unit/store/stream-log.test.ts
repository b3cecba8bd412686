import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { logDirName } from '../../../src/store/stream-log/file-storage.js';
import { body, durable } from './store-suite.js';
import { MemoryImage, MemoryStore } from '../../../src/store/memory-store.js';
import { logFixture } from './fixtures.js';
import { runStreamLogSuite } from './stream-log-suite.js';

runStreamLogSuite('LogStore', logFixture());
runStreamLogSuite('LogStore, periodic sync', logFixture({ sync: { mode: 'periodic', intervalMs: 5 } }));
runStreamLogSuite('MemoryStore with an image', async () => {
  const image = new MemoryImage();
  return { create: () => new MemoryStore({ image }), cleanup: async () => undefined };
});

test('LogStore: a torn chunk at the tail of a stream segment is cut off on open; everything before it stays', async () => {
  const fixture = await logFixture()();
  try {
    const store = fixture.create();
    await store.open();
    const log = store.streamLog('torn');
    for (let i = 0; i < 10; i++) log.append(Buffer.alloc(0), body(i));
    await durable(store);
    await store.close();
    const dir = join(fixture.dir, 'streams', logDirName('torn'));
    const segment = join(dir, readdirSync(dir).find((f) => f.endsWith('.wsseg'))!);
    appendFileSync(segment, Buffer.from('WSC1 half a chunk that never finished', 'latin1'));
    const again = fixture.create();
    const state = await again.open();
    try {
      assert.ok(state.problems.some((p) => p.includes('torn or corrupt')), state.problems.join('; '));
      const reopened = again.streamLog('torn');
      assert.equal(reopened.nextOffset, 10);
      assert.equal((await reopened.read(0, 1 << 20)).length, 10);
      assert.equal(reopened.append(Buffer.alloc(0), body(10)), 10);
      await durable(again);
      assert.equal((await reopened.read(0, 1 << 20)).length, 11);
    } finally {
      await again.close();
    }
  } finally {
    await fixture.cleanup();
  }
});
