import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LogStore } from '../../../src/store/log-store.js';
import { FIRST_READ_BYTES, READ_AHEAD_BYTES } from '../../../src/store/log-reader.js';
import { body, durable } from './store-suite.js';
import { removeDir, tempDir } from './fixtures.js';

const open = async (dir: string, segmentBytes: number) => {
  const store = new LogStore({ dataDir: dir, maintenanceIntervalMs: 0, segmentBytes, compactionThreshold: 0.5 });
  await store.open();
  return store;
};

/** Sizes that put records across window edges, plus a few bigger than any window. */
function sizeOf(i: number): number {
  if (i % 500 === 250) return READ_AHEAD_BYTES + 1000;
  if (i % 300 === 150) return FIRST_READ_BYTES + 10;
  return 40 + ((i * 37) % 2000);
}

test('reads through the read-ahead window return every message, in order, shuffled and backwards', async () => {
  const dir = tempDir();
  try {
    const store = await open(dir, 4 * 1024 * 1024);
    const q = store.stream('/q');
    const other = store.stream('/other');
    const handles: number[] = [];
    for (let i = 0; i < 3000; i++) {
      handles.push(q.append(Buffer.from(`h${i}`), body(i, sizeOf(i))));
      if (i % 7 === 0) other.append(Buffer.from('x'), body(i, 500)); // interleaved records of another queue
    }
    await durable(store); // out of the write buffer: every read below goes to the files
    const check = (i: number): void => {
      const message = store.readNow(handles[i]!);
      assert.equal(message.header.toString(), `h${i}`);
      assert.deepEqual(message.body, body(i, sizeOf(i)), `message ${i}`);
    };
    for (let i = 0; i < handles.length; i++) check(i);
    for (let i = handles.length - 1; i >= 0; i--) check(i);
    for (let k = 0; k < handles.length; k++) check((k * 7919) % handles.length);
    await store.close();
  } finally {
    removeDir(dir);
  }
});

test('a window read before a compaction is not used for the rewritten segment', async () => {
  const dir = tempDir();
  try {
    const store = await open(dir, 64 * 1024);
    const q = store.stream('/q');
    const handles: number[] = [];
    for (let i = 0; i < 2000; i++) handles.push(q.append(Buffer.from('h'), body(i, 100)));
    await durable(store);
    for (let i = 0; i < handles.length; i++) assert.deepEqual(store.readNow(handles[i]!).body, body(i, 100));
    const keep = handles.map((_, i) => i).filter((i) => i % 13 === 0);
    handles.forEach((h, i) => {
      if (i % 13 !== 0) q.remove(h);
    });
    await durable(store);
    await store.compactNow();
    await durable(store);
    assert.ok(store.stats().compactions > 0, 'some segment was compacted');
    for (const i of keep) assert.deepEqual(store.readNow(handles[i]!).body, body(i, 100), `message ${i}`);
    for (const i of [...keep].reverse()) assert.deepEqual(store.readNow(handles[i]!).body, body(i, 100), `message ${i}`);
    await store.close();
  } finally {
    removeDir(dir);
  }
});
