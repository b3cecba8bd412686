/**
 * The contract every Store implementation passes (run by memory-store.test.ts and log-store.test.ts).
 * This module only exports; importing it registers nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RecoveredQueue, RecoveredState, Store } from '../../../src/store/store.js';

export interface StoreFixture {
  /** A new store over the same backing data (same data dir for LogStore). */
  create(): Store;
  cleanup(): Promise<void>;
}

export function durable(store: Store): Promise<void> {
  return new Promise((resolve, reject) => store.whenDurable((error) => (error ? reject(error) : resolve())));
}

export function body(n: number, size = 20): Buffer {
  const b = Buffer.alloc(size, n % 251);
  b.writeUInt32LE(n, 0);
  return b;
}

export function queueNamed(state: RecoveredState, name: string): RecoveredQueue | undefined {
  return state.queues.find((q) => q.name === name);
}

/** Reads every recovered message's body id (first 4 bytes). */
export function idsOf(store: Store, queue: RecoveredQueue | undefined): number[] {
  if (!queue) return [];
  return Array.from(queue.handles, (h) => store.read(h).body.readUInt32LE(0));
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
      const q = store.queueId('/jobs');
      const handles: number[] = [];
      for (let i = 0; i < 3000; i++) handles.push(store.append(q, Buffer.from(`h${i}`), body(i, 500)));
      handles.forEach((h, i) => {
        const m = store.read(h);
        assert.equal(m.header.toString(), `h${i}`);
        assert.deepEqual(m.body, body(i, 500));
      });
      await durable(store);
      const m = store.read(handles[1234] ?? -1);
      assert.deepEqual(m.body, body(1234, 500));
      m.body[5] = 99; // fresh buffers: mutating one must not change the stored message
      assert.deepEqual(store.read(handles[1234] ?? -1).body, body(1234, 500));
      assert.equal(store.stats().liveMessages, 3000);
    }));

  test(`${label}: the same queue name keeps its id, other names get other ids`, () =>
    withStore(makeFixture, async (_fixture, store) => {
      const a = store.queueId('/a');
      assert.equal(store.queueId('/a'), a);
      assert.notEqual(store.queueId('/b'), a);
    }));

  test(`${label}: queues come back in order without removed messages, with delivered flags`, () =>
    withStore(makeFixture, async (fixture, store) => {
      const q1 = store.queueId('/q1');
      const q2 = store.queueId('/q2');
      const h1: number[] = [];
      const h2: number[] = [];
      for (let i = 0; i < 500; i++) {
        h1.push(store.append(q1, Buffer.from('x'), body(i)));
        h2.push(store.append(q2, Buffer.from('y'), body(10_000 + i)));
      }
      for (let i = 0; i < 500; i += 3) store.remove(q1, h1[i] ?? -1);
      store.markDelivered(q2, h2[7] ?? -1);
      store.remove(q2, h2[0] ?? -1);
      await durable(store);
      await reopen(fixture, store, (again, state) => {
        if (!again.persistent) {
          assert.equal(state.queues.length, 0);
          return;
        }
        const r1 = queueNamed(state, '/q1');
        const r2 = queueNamed(state, '/q2');
        const expected1 = [...Array(500).keys()].filter((i) => i % 3 !== 0);
        assert.deepEqual(idsOf(again, r1), expected1);
        assert.deepEqual(idsOf(again, r2), [...Array(499).keys()].map((i) => 10_001 + i));
        assert.equal(r2?.delivered[6], 1);
        assert.equal(r2?.delivered.reduce((a, b) => a + b, 0), 1);
        assert.equal(again.read(r1?.handles[0] ?? -1).header.toString(), 'x');
      });
    }));

  test(`${label}: a fanned-out message is kept for each queue until each has removed it`, () =>
    withStore(makeFixture, async (fixture, store) => {
      const queues = ['/f1', '/f2', '/f3'].map((name) => store.queueId(name));
      const header = Buffer.from('fan');
      const handles = queues.map(() => [] as number[]);
      for (let i = 0; i < 100; i++) {
        const b = body(i);
        queues.forEach((q, k) => handles[k]?.push(store.append(q, header, b)));
      }
      for (let i = 0; i < 100; i++) store.remove(queues[0] ?? 0, handles[0]?.[i] ?? -1);
      for (let i = 0; i < 50; i++) store.remove(queues[1] ?? 0, handles[1]?.[i] ?? -1);
      assert.deepEqual(store.read(handles[2]?.[10] ?? -1).body, body(10));
      await durable(store);
      await reopen(fixture, store, (again, state) => {
        if (!again.persistent) return void assert.equal(state.queues.length, 0);
        assert.deepEqual(idsOf(again, queueNamed(state, '/f1')), []);
        assert.deepEqual(idsOf(again, queueNamed(state, '/f2')), [...Array(50).keys()].map((i) => i + 50));
        assert.deepEqual(idsOf(again, queueNamed(state, '/f3')), [...Array(100).keys()]);
      });
    }));

  test(`${label}: a dropped queue loses its messages; the name declared again starts empty`, () =>
    withStore(makeFixture, async (fixture, store) => {
      const q = store.queueId('/gone');
      const handles = [1, 2, 3].map((i) => store.append(q, Buffer.alloc(0), body(i)));
      store.dropQueue(q, handles);
      const fresh = store.queueId('/gone');
      assert.notEqual(fresh, q);
      store.append(fresh, Buffer.alloc(0), body(4));
      await durable(store);
      await reopen(fixture, store, (again, state) => {
        if (!again.persistent) return void assert.equal(state.queues.length, 0);
        assert.deepEqual(state.queues.map((r) => r.name), ['/gone']);
        assert.deepEqual(idsOf(again, queueNamed(state, '/gone')), [4]);
        assert.equal(again.queueId('/gone'), fresh);
      });
    }));

  test(`${label}: the same body appended twice to one queue is two messages`, () =>
    withStore(makeFixture, async (fixture, store) => {
      const q = store.queueId('/twice');
      const header = Buffer.from('h');
      const b = body(7);
      const first = store.append(q, header, b);
      const second = store.append(q, header, b);
      assert.notEqual(first, second);
      store.remove(q, first);
      await durable(store);
      assert.deepEqual(store.read(second).body, body(7));
      await reopen(fixture, store, (again, state) => {
        if (!again.persistent) return;
        assert.deepEqual(idsOf(again, queueNamed(state, '/twice')), [7]);
      });
    }));

  test(`${label}: definitions are put, replaced and deleted`, () =>
    withStore(makeFixture, async (fixture, store) => {
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
      const q = store.queueId('/order');
      const seen: number[] = [];
      const all: Promise<void>[] = [];
      for (let i = 0; i < 50; i++) {
        store.append(q, Buffer.alloc(0), body(i));
        all.push(new Promise((resolve, reject) => store.whenDurable((error) => (error ? reject(error) : (seen.push(i), resolve())))));
      }
      await Promise.all(all);
      assert.deepEqual(seen, [...Array(50).keys()]);
    }));

  test(`${label}: the store refuses work before open`, async () => {
    const fixture = await makeFixture();
    try {
      const store = fixture.create();
      assert.throws(() => store.append(1, Buffer.alloc(0), Buffer.alloc(1)));
    } finally {
      await fixture.cleanup();
    }
  });
}
