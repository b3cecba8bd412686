/**
 * The contract every store's stream logs pass (run by stream-log.test.ts for the LogStore and the
 * MemoryStore over an image). This module only exports; importing it registers nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Store, StreamLog } from '../../../src/store/store.js';
import { body, durable, type StoreFixture } from './store-suite.js';

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

async function withStore(makeFixture: () => Promise<StoreFixture>, fn: (fixture: StoreFixture, store: Store) => Promise<void>): Promise<void> {
  const fixture = await makeFixture();
  const store = fixture.create();
  try {
    await store.open();
    await fn(fixture, store);
  } finally {
    await store.close();
    await fixture.cleanup();
  }
}

async function reopened(fixture: StoreFixture, store: Store): Promise<Store> {
  await store.close();
  const again = fixture.create();
  await again.open();
  return again;
}

async function readAll(log: StreamLog, from = 0): Promise<number[]> {
  const ids: number[] = [];
  let at = from;
  for (;;) {
    const records = await log.read(at, 4096);
    if (records.length === 0) return ids;
    for (const record of records) ids.push(record.body.readUInt32LE(0));
    at = records[records.length - 1]!.offset + 1;
  }
}

/** Appends `count` records of `size` bytes, one chunk per `perChunk` records (a turn between chunks). */
async function fill(store: Store, log: StreamLog, first: number, count: number, size: number, perChunk: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    log.append(Buffer.from(`h${first + i}`), body(first + i, size));
    if ((i + 1) % perChunk === 0) await durable(store);
  }
  await durable(store);
}

export function runStreamLogSuite(label: string, makeFixture: () => Promise<StoreFixture>): void {
  test(`${label}: stream log appends get offsets 0, 1, 2 and read back with header, body, filter value`, () =>
    withStore(makeFixture, async (_fixture, store) => {
      const log = store.streamLog('["/","s"]');
      assert.equal(store.streamLog('["/","s"]'), log, 'the same object for the same name');
      assert.deepEqual([log.append(Buffer.from('a'), body(0)), log.append(Buffer.from('b'), body(1), 'red'), log.append(Buffer.alloc(0), body(2))], [0, 1, 2]);
      assert.equal(log.nextOffset, 3);
      await durable(store);
      assert.equal(log.readableOffset, 3);
      const records = await log.read(0, 1 << 20);
      assert.deepEqual(records.map((r) => r.offset), [0, 1, 2]);
      assert.deepEqual(records.map((r) => r.header.toString()), ['a', 'b', '']);
      assert.deepEqual(records.map((r) => r.filterValue), [undefined, 'red', undefined]);
      assert.deepEqual(records[2]!.body, body(2));
      assert.ok(Math.abs(records[0]!.timestamp - Date.now()) < 60_000);
      assert.deepEqual((await log.read(1, 1 << 20)).map((r) => r.offset), [1, 2], 'from the middle of a chunk');
      assert.deepEqual(await log.read(3, 1 << 20), [], 'nothing readable past the end');
      assert.ok(store.streamLogNames().includes('["/","s"]'));
    }));

  test(`${label}: one chunk per turn: last is the newest chunk, reads come in whole chunks, onReadable fires`, () =>
    withStore(makeFixture, async (_fixture, store) => {
      const log = store.streamLog('chunks');
      let readable = 0;
      log.onReadable(() => readable++);
      await fill(store, log, 0, 30, 100, 10);
      await turn();
      // A store may tell of several chunks at once (periodic sync makes them readable in one round).
      assert.ok(readable >= 1, 'told that chunks became readable');
      assert.equal(log.readableOffset, 30);
      assert.equal(log.lastChunkOffset(), 20);
      assert.equal(log.stats().chunks, 3);
      const firstRead = await log.read(0, 1);
      assert.deepEqual(firstRead.map((r) => r.offset), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 'at least one whole chunk');
      assert.deepEqual(await readAll(log), Array.from({ length: 30 }, (_, i) => i));
    }));

  test(`${label}: offsets by timestamp find the first chunk written at or after it`, () =>
    withStore(makeFixture, async (_fixture, store) => {
      const log = store.streamLog('times');
      await fill(store, log, 0, 5, 10, 5);
      await new Promise((resolve) => setTimeout(resolve, 20));
      const between = Date.now();
      await new Promise((resolve) => setTimeout(resolve, 5));
      await fill(store, log, 5, 5, 10, 5);
      assert.equal(log.offsetAt(0), 0);
      assert.equal(log.offsetAt(between), 5);
      assert.equal(log.offsetAt(Date.now() + 60_000), 10, 'after the newest chunk: the end');
    }));

  test(`${label}: stream logs, their offsets and stored consumer offsets survive a reopen`, () =>
    withStore(makeFixture, async (fixture, first) => {
      let store = first;
      const log = store.streamLog('kept');
      await fill(store, log, 0, 50, 200, 7);
      log.storeOffset('app-1', 17);
      log.storeOffset('app-2', 3);
      log.storeOffset('app-1', 21);
      await durable(store);
      store = await reopened(fixture, store);
      try {
        const again = store.streamLog('kept');
        assert.ok(store.streamLogNames().includes('kept'));
        assert.equal(again.nextOffset, 50);
        assert.equal(again.lastChunkOffset(), 49);
        assert.deepEqual(await readAll(again), Array.from({ length: 50 }, (_, i) => i));
        assert.equal(again.storedOffset('app-1'), 21);
        assert.equal(again.storedOffset('app-2'), 3);
        assert.equal(again.storedOffset('nobody'), undefined);
        assert.equal(again.append(Buffer.alloc(0), body(50)), 50, 'offsets continue');
        await durable(store);
        assert.deepEqual((await again.read(50, 100)).map((r) => r.offset), [50]);
      } finally {
        await store.close();
      }
    }));

  test(`${label}: retention by bytes removes whole old segments, never the active one`, () =>
    withStore(makeFixture, async (fixture, first) => {
      let store = first;
      const log = store.streamLog('sized');
      log.configure({ segmentBytes: 4096, maxBytes: 10_000 });
      await fill(store, log, 0, 200, 200, 5);
      const stats = log.stats();
      assert.ok(stats.segments >= 2 && stats.segments <= 4, `segments: ${stats.segments}`);
      assert.ok(stats.bytes <= 10_000 + 4096 + 1100, `bytes ${stats.bytes}`);
      assert.ok(stats.firstOffset > 0 && stats.firstOffset % 5 === 0, 'starts at a chunk boundary');
      const kept = await readAll(log);
      assert.equal(kept[0], stats.firstOffset);
      assert.equal(kept.length, 200 - stats.firstOffset);
      assert.deepEqual(await readAll(log, 0), kept, 'reading from before the start reads from the start');
      log.configure({ segmentBytes: 4096, maxBytes: 0 });
      assert.equal(log.stats().segments, 1, 'the active segment stays');
      const firstKept = log.firstOffset;
      await durable(store);
      store = await reopened(fixture, store);
      try {
        assert.equal(store.streamLog('sized').firstOffset, firstKept);
        assert.equal(store.streamLog('sized').nextOffset, 200);
      } finally {
        await store.close();
      }
    }));

  test(`${label}: retention by age removes segments whose newest chunk is older than x-max-age`, () =>
    withStore(makeFixture, async (_fixture, store) => {
      const log = store.streamLog('aged');
      log.configure({ segmentBytes: 2048, maxAgeMs: 60_000 });
      await fill(store, log, 0, 60, 200, 4);
      const before = log.stats().segments;
      assert.ok(before > 3);
      assert.equal(log.applyRetention(), 0, 'nothing is old yet');
      assert.equal(log.applyRetention(Date.now() + 120_000), before - 1, 'everything but the active segment');
      assert.equal(log.stats().segments, 1);
      assert.ok(log.firstOffset > 0);
      assert.deepEqual((await readAll(log)).length, 60 - log.firstOffset);
    }));

  test(`${label}: a dropped stream log is gone, also after a reopen, and its name starts afresh`, () =>
    withStore(makeFixture, async (fixture, first) => {
      let store = first;
      const log = store.streamLog('gone');
      await fill(store, log, 0, 20, 100, 5);
      log.storeOffset('c', 5);
      log.drop();
      assert.ok(!store.streamLogNames().includes('gone'));
      await assert.rejects(log.read(0, 100));
      const fresh = store.streamLog('gone');
      assert.notEqual(fresh, log);
      assert.equal(fresh.nextOffset, 0);
      assert.equal(fresh.storedOffset('c'), undefined);
      fresh.drop();
      await durable(store);
      store = await reopened(fixture, store);
      try {
        assert.ok(!store.streamLogNames().includes('gone'));
      } finally {
        await store.close();
      }
    }));

  test(`${label}: big records and many small ones in one chunk`, () =>
    withStore(makeFixture, async (_fixture, store) => {
      const log = store.streamLog('mixed');
      log.append(Buffer.from('big'), body(0, 3 * 1024 * 1024));
      for (let i = 1; i <= 2000; i++) log.append(Buffer.alloc(0), body(i, 8));
      await durable(store);
      const [big] = await log.read(0, 10);
      assert.equal(big!.body.length, 3 * 1024 * 1024);
      assert.equal((await readAll(log)).length, 2001);
    }));

  test(`${label}: a batch is stored as its own chunk, byte for byte, between records, and takes count offsets`, () =>
    withStore(makeFixture, async (fixture, store) => {
      const log = store.streamLog('batches');
      const batch = Buffer.from('an opaque batch of three records, in a door\'s own format');
      const original = Buffer.from(batch);
      assert.equal(log.append(Buffer.from('h0'), body(0)), 0);
      assert.equal(log.appendBatch(batch, 3), 1);
      batch.fill(0); // the log copied it
      assert.equal(log.append(Buffer.from('h4'), body(4)), 4);
      assert.equal(log.nextOffset, 5);
      assert.throws(() => log.appendBatch(original, 0), RangeError);
      await durable(store);
      assert.equal(log.readableOffset, 5);
      assert.equal(log.stats().chunks, 3, 'records, the batch, records: three chunks in append order');
      const check = async (l: StreamLog): Promise<void> => {
        const records = await l.read(0, 1 << 20);
        assert.deepEqual(records.map((r) => [r.offset, r.batchCount]), [[0, undefined], [1, 3], [4, undefined]]);
        assert.deepEqual(records[1]!.body, original);
        assert.equal(records[1]!.header.length, 0);
        // Reading from inside the batch returns the whole batch; after it, not.
        assert.deepEqual((await l.read(2, 1 << 20)).map((r) => r.offset), [1, 4]);
        assert.deepEqual((await l.read(4, 1 << 20)).map((r) => r.offset), [4]);
        assert.equal(l.lastChunkOffset(), 4);
      };
      await check(log);
      const again = await reopened(fixture, store);
      try {
        const log2 = again.streamLog('batches');
        assert.equal(log2.nextOffset, 5, 'the batch\'s offsets survive a reopen');
        await check(log2);
        assert.equal(log2.appendBatch(original, 2), 5);
        await durable(again);
        assert.equal(log2.nextOffset, 7);
        assert.deepEqual((await log2.read(5, 1 << 20)).map((r) => [r.offset, r.batchCount]), [[5, 2]]);
      } finally {
        await again.close();
      }
    }));
}
