/**
 * The contract every Store implementation passes (run by memory-store.test.ts and log-store-suite.test.ts,
 * the memory store also with a backing image and reads answered after random delays, and by
 * cluster/replicated-store-contract.test.ts for the cluster's PostgreSQL message store). This module only
 * exports; importing it registers nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MessageStream, RecoveredState, RecoveredStream, Store, StoredMessage } from '../../../src/store/store.js';

export interface StoreFixture {
  /** A new store over the same backing data (same data dir for LogStore). */
  create(): Store;
  cleanup(): Promise<void>;
  /** False for a store that keeps a fanned-out message once per stream (share() is always false). Default true. */
  sharesMessages?: boolean;
  /** False for a message store whose definitions live elsewhere (the cluster's). Default true. */
  definitions?: boolean;
}

/** What the broker does with a fanned-out message: share it when the store can, else append it again. */
function shareOrAppend(fixture: StoreFixture, stream: MessageStream, handle: number, header: Buffer, message: Buffer): number {
  const shared = stream.share(handle);
  if (fixture.sharesMessages !== false) assert.equal(shared, true, 'the newest message can be shared');
  return shared ? handle : stream.append(header, message);
}

export function durable(store: Store): Promise<void> {
  return new Promise((resolve, reject) => store.whenDurable((error) => (error ? reject(error) : resolve())));
}

export function body(n: number, size = 20): Buffer {
  const b = Buffer.alloc(size, n % 251);
  b.writeUInt32LE(n, 0);
  return b;
}

export function queueNamed(state: RecoveredState, name: string): RecoveredStream | undefined {
  return state.streams.find((q) => q.stream.name === name);
}

/** Reads every recovered message's body id (first 4 bytes). */
export async function idsOf(recovered: RecoveredStream | undefined): Promise<number[]> {
  if (!recovered) return [];
  const messages = await recovered.stream.read(Array.from(recovered.handles));
  return messages.map((m) => m.body.readUInt32LE(0));
}

export async function readOne(stream: MessageStream, handle: number): Promise<StoredMessage> {
  const [message] = await stream.read([handle]);
  return message!;
}

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

/** Closes `store`, opens a new one on the same data, hands both to `fn`, closes the new one. */
async function reopen(fixture: StoreFixture, store: Store, fn: (again: Store, state: RecoveredState) => Promise<void> | void): Promise<void> {
  await store.close();
  const again = fixture.create();
  const state = await again.open();
  try {
    await fn(again, state);
  } finally {
    await again.close();
  }
}

export function runStoreSuite(label: string, makeFixture: () => Promise<StoreFixture>): void {
  test(`${label}: append and read back header and body, in and out of the write buffer`, () =>
    withStore(makeFixture, async (_fixture, store) => {
      const q = store.stream('/jobs');
      const handles: number[] = [];
      for (let i = 0; i < 3000; i++) handles.push(q.append(Buffer.from(`h${i}`), body(i, 500)));
      const early = await q.read(handles);
      early.forEach((m, i) => {
        assert.equal(m.header.toString(), `h${i}`);
        assert.deepEqual(m.body, body(i, 500));
      });
      await durable(store);
      const m = await readOne(q, handles[1234] ?? -1);
      assert.deepEqual(m.body, body(1234, 500));
      m.body[5] = 99; // fresh buffers: mutating one must not change the stored message
      assert.deepEqual((await readOne(q, handles[1234] ?? -1)).body, body(1234, 500));
      const picked = await q.read([handles[7] ?? -1, handles[3] ?? -1]);
      assert.deepEqual(picked.map((p) => p.body.readUInt32LE(0)), [7, 3], 'read answers in the order asked');
      if (store.stats) assert.equal(store.stats().liveMessages, 3000);
    }));

  test(`${label}: reading a handle the store does not know rejects`, () =>
    withStore(makeFixture, async (_fixture, store) => {
      const q = store.stream('/bad');
      const h = q.append(Buffer.alloc(0), body(1));
      await assert.rejects(q.read([h, 987654321]));
    }));

  test(`${label}: the same stream name gives the same stream, other names other streams`, () =>
    withStore(makeFixture, async (_fixture, store) => {
      const a = store.stream('/a');
      assert.equal(store.stream('/a'), a);
      assert.notEqual(store.stream('/b'), a);
      assert.equal(a.name, '/a');
    }));

  test(`${label}: streams come back in order without removed messages, with delivered flags`, () =>
    withStore(makeFixture, async (fixture, store) => {
      const q1 = store.stream('/q1');
      const q2 = store.stream('/q2');
      const h1: number[] = [];
      const h2: number[] = [];
      for (let i = 0; i < 500; i++) {
        h1.push(q1.append(Buffer.from('x'), body(i)));
        h2.push(q2.append(Buffer.from('y'), body(10_000 + i)));
      }
      for (let i = 0; i < 500; i += 3) q1.remove(h1[i] ?? -1);
      q2.markDelivered(h2[7] ?? -1);
      q2.remove(h2[0] ?? -1);
      await durable(store);
      await reopen(fixture, store, async (again, state) => {
        if (!again.persistent) {
          assert.equal(state.streams.length, 0);
          return;
        }
        const r1 = queueNamed(state, '/q1');
        const r2 = queueNamed(state, '/q2');
        const expected1 = [...Array(500).keys()].filter((i) => i % 3 !== 0);
        assert.deepEqual(await idsOf(r1), expected1);
        assert.deepEqual(await idsOf(r2), [...Array(499).keys()].map((i) => 10_001 + i));
        assert.equal(r2?.delivered[6], 1);
        assert.equal(r2?.delivered.reduce((a, b) => a + b, 0), 1);
        assert.equal((await readOne(r1!.stream, r1?.handles[0] ?? -1)).header.toString(), 'x');
        assert.equal(again.stream('/q1'), r1?.stream, 'a recovered stream is the one stream() gives');
      });
    }));

  test(`${label}: a shared (fanned-out) message is kept for each stream until each has removed it`, () =>
    withStore(makeFixture, async (fixture, store) => {
      const streams = ['/f1', '/f2', '/f3'].map((name) => store.stream(name));
      const header = Buffer.from('fan');
      const handles = streams.map(() => [] as number[]);
      for (let i = 0; i < 100; i++) {
        const first = streams[0]!.append(header, body(i));
        handles[0]!.push(first);
        for (const k of [1, 2]) handles[k]!.push(shareOrAppend(fixture, streams[k]!, first, header, body(i)));
        assert.equal(streams[1]!.share(first), false, 'a stream holds a message once');
      }
      for (let i = 0; i < 100; i++) streams[0]!.remove(handles[0]?.[i] ?? -1);
      for (let i = 0; i < 50; i++) streams[1]!.remove(handles[1]?.[i] ?? -1);
      assert.deepEqual((await readOne(streams[2]!, handles[2]?.[10] ?? -1)).body, body(10));
      await durable(store);
      await reopen(fixture, store, async (again, state) => {
        if (!again.persistent) return void assert.equal(state.streams.length, 0);
        assert.deepEqual(await idsOf(queueNamed(state, '/f1')), []);
        assert.deepEqual(await idsOf(queueNamed(state, '/f2')), [...Array(50).keys()].map((i) => i + 50));
        assert.deepEqual(await idsOf(queueNamed(state, '/f3')), [...Array(100).keys()]);
      });
    }));

  test(`${label}: only the newest message can be shared; an older one must be appended again`, () =>
    withStore(makeFixture, async (_fixture, store) => {
      const a = store.stream('/sa');
      const b = store.stream('/sb');
      const older = a.append(Buffer.from('h'), body(1));
      a.append(Buffer.from('h'), body(2));
      assert.equal(b.share(older), false);
    }));

  test(`${label}: a dropped stream loses its messages; the name used again starts empty`, () =>
    withStore(makeFixture, async (fixture, store) => {
      const q = store.stream('/gone');
      const other = store.stream('/stays');
      for (const i of [1, 2, 3]) {
        const h = q.append(Buffer.alloc(0), body(i));
        shareOrAppend(fixture, other, h, Buffer.alloc(0), body(i));
      }
      q.drop();
      assert.throws(() => q.append(Buffer.alloc(0), body(9)), 'a dropped stream refuses appends');
      const fresh = store.stream('/gone');
      assert.notEqual(fresh, q);
      fresh.append(Buffer.alloc(0), body(4));
      await durable(store);
      await reopen(fixture, store, async (again, state) => {
        if (!again.persistent) return void assert.equal(state.streams.length, 0);
        assert.deepEqual(state.streams.map((r) => r.stream.name).sort(), ['/gone', '/stays']);
        assert.deepEqual(await idsOf(queueNamed(state, '/gone')), [4]);
        assert.deepEqual(await idsOf(queueNamed(state, '/stays')), [1, 2, 3], 'messages shared with a dropped stream stay');
      });
    }));

  test(`${label}: the same body appended twice to one stream is two messages`, () =>
    withStore(makeFixture, async (fixture, store) => {
      const q = store.stream('/twice');
      const header = Buffer.from('h');
      const b = body(7);
      const first = q.append(header, b);
      const second = q.append(header, b);
      assert.notEqual(first, second);
      q.remove(first);
      await durable(store);
      assert.deepEqual((await readOne(q, second)).body, body(7));
      await reopen(fixture, store, async (again, state) => {
        if (!again.persistent) return;
        assert.deepEqual(await idsOf(queueNamed(state, '/twice')), [7]);
      });
    }));

  test(`${label}: definitions are put, replaced and deleted`, () =>
    withStore(makeFixture, async (fixture, store) => {
      if (fixture.definitions === false) return; // a message store only: its definitions are tested where they live
      store.putDefinition('exchange', '/|logs', { type: 'fanout', durable: true });
      store.putDefinition('queue', '/|jobs', { durable: true, arguments: { 'x-max-length': 10 } });
      store.putDefinition('queue', '/|jobs', { durable: true, arguments: {} });
      store.putDefinition('binding', '/|logs|jobs|#', {});
      store.deleteDefinition('binding', '/|logs|jobs|#');
      store.deleteDefinition('user', 'nobody');
      await durable(store);
      await reopen(fixture, store, (again, state) => {
        if (!again.persistent) return void assert.deepEqual(state.definitions, []);
        const sorted = [...state.definitions].sort((a, b) => a.kind.localeCompare(b.kind));
        assert.deepEqual(sorted, [
          { kind: 'exchange', key: '/|logs', value: { type: 'fanout', durable: true } },
          { kind: 'queue', key: '/|jobs', value: { durable: true, arguments: {} } },
        ]);
      });
    }));

  test(`${label}: whenDurable callbacks run once each, in order`, () =>
    withStore(makeFixture, async (_fixture, store) => {
      const q = store.stream('/order');
      const seen: number[] = [];
      const all: Promise<void>[] = [];
      for (let i = 0; i < 50; i++) {
        q.append(Buffer.alloc(0), body(i));
        all.push(new Promise((resolve, reject) => store.whenDurable((error) => (error ? reject(error) : (seen.push(i), resolve())))));
      }
      await Promise.all(all);
      assert.deepEqual(seen, [...Array(50).keys()]);
    }));

  test(`${label}: the store refuses work before open`, async () => {
    const fixture = await makeFixture();
    try {
      const store = fixture.create();
      assert.throws(() => store.stream('/early'));
    } finally {
      await fixture.cleanup();
    }
  });
}
