import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { LogStore } from '../../../src/store/log-store.js';
import { body, durable, idsOf, queueNamed } from './store-suite.js';
import { removeDir, tempDir } from './fixtures.js';

const SEGMENT = 16 * 1024;
const open = async (dir: string) => {
  const store = new LogStore({ dataDir: dir, maintenanceIntervalMs: 0, segmentBytes: SEGMENT, compactionThreshold: 0.5 });
  return { store, state: await store.open() };
};

test('fully acked segments are deleted and a few live messages no longer pin mostly dead ones', async () => {
  const dir = tempDir();
  try {
    const { store } = await open(dir);
    const q = store.stream('/q');
    const handles: number[] = [];
    for (let i = 0; i < 2000; i++) handles.push(q.append(Buffer.from('h'), body(i, 100)));
    const keep = new Set([...Array(2000).keys()].filter((i) => i % 97 === 0));
    handles.forEach((h, i) => {
      if (!keep.has(i)) q.remove(h);
    });
    await durable(store);
    const before = store.stats();
    await store.compactNow();
    await durable(store);
    const after = store.stats();
    assert.ok(after.compactions > 0, 'some segment was compacted');
    assert.ok(after.deletedSegments > 0, 'some segment was deleted');
    assert.ok(after.diskBytes < before.diskBytes / 4, `disk ${before.diskBytes} -> ${after.diskBytes}`);
    for (const i of keep) assert.deepEqual(store.readNow(handles[i] ?? -1).body, body(i, 100), 'handles stay valid');
    const files = readdirSync(join(dir, 'segments'));
    assert.equal(files.filter((f) => f.endsWith('.compact')).length, 0);
    assert.equal(files.length, after.segments);
    await store.close();

    const { store: again, state } = await open(dir);
    assert.deepEqual(await idsOf(queueNamed(state, '/q')), [...keep].sort((a, b) => a - b));
    assert.deepEqual(state.problems, []);
    await again.close();
  } finally {
    removeDir(dir);
  }
});

test('removals recorded in a deleted segment do not resurrect messages of a compacted one', async () => {
  const dir = tempDir();
  try {
    const { store } = await open(dir);
    const q = store.stream('/q');
    const fan = store.stream('/fan');
    const early: number[] = [];
    for (let i = 0; i < 300; i++) {
      const b = body(i, 100);
      early.push(q.append(Buffer.from('h'), b));
      if (i % 50 === 0) fan.append(Buffer.from('h'), b);
    }
    // Later segments only hold removals of the early messages, then lots of traffic that is acked.
    for (let i = 0; i < 300; i++) if (i % 50 !== 0) q.remove(early[i] ?? -1);
    for (let i = 0; i < 1500; i++) q.remove(q.append(Buffer.from('h'), body(100_000 + i, 100)));
    await durable(store);
    for (let round = 0; round < 3; round++) {
      await store.compactNow();
      await durable(store);
    }
    await store.close();
    const { store: again, state } = await open(dir);
    const expected = [...Array(300).keys()].filter((i) => i % 50 === 0);
    assert.deepEqual(await idsOf(queueNamed(state, '/q')), expected);
    assert.deepEqual(await idsOf(queueNamed(state, '/fan')), expected);
    assert.ok(again.stats().segments < 10, `segments left: ${again.stats().segments}`);
    await again.close();
  } finally {
    removeDir(dir);
  }
});

test('compaction keeps fanout holders and delivered flags, and copes with removals while it runs', async () => {
  const dir = tempDir();
  try {
    const { store } = await open(dir);
    const [a, b] = [store.stream('/a'), store.stream('/b')];
    const ha: number[] = [];
    const hb: number[] = [];
    for (let i = 0; i < 1000; i++) {
      const payload = body(i, 100);
      ha.push(a.append(Buffer.from('h'), payload));
      hb.push(b.append(Buffer.from('h'), payload));
    }
    for (let i = 0; i < 1000; i++) {
      if (i % 10 !== 0) a.remove(ha[i] ?? -1);
      if (i % 4 !== 0) b.remove(hb[i] ?? -1);
    }
    a.markDelivered(ha[100] ?? -1);
    await durable(store);
    // Step compaction by hand and remove a message between steps.
    await store.maintain();
    a.remove(ha[20] ?? -1);
    await store.compactNow();
    await durable(store);
    await store.close();
    const { store: again, state } = await open(dir);
    const ra = queueNamed(state, '/a');
    assert.deepEqual(await idsOf(ra), [...Array(1000).keys()].filter((i) => i % 10 === 0 && i !== 20));
    assert.deepEqual(await idsOf(queueNamed(state, '/b')), [...Array(1000).keys()].filter((i) => i % 4 === 0));
    const at100 = (await idsOf(ra)).indexOf(100);
    assert.equal(ra?.delivered[at100], 1);
    assert.equal(ra?.delivered.reduce((x, y) => x + y, 0), 1);
    await again.close();
  } finally {
    removeDir(dir);
  }
});

test('a dropped stream gives its space back without the caller listing its messages; shared messages stay', async () => {
  const dir = tempDir();
  try {
    const { store } = await open(dir);
    const gone = store.stream('/gone');
    const stays = store.stream('/stays');
    for (let i = 0; i < 3000; i++) {
      const h = gone.append(Buffer.from('h'), body(i, 100));
      if (i % 100 === 0) assert.equal(stays.share(h), true);
    }
    await durable(store);
    const before = store.stats().diskBytes;
    gone.drop();
    stays.append(Buffer.from('h'), body(99_999, 100));
    await durable(store);
    await store.compactNow();
    await durable(store);
    const after = store.stats();
    // Every segment still holds a shared message, so compaction shrinks the files rather than deleting them.
    assert.ok(after.diskBytes < before / 4, `disk bytes ${before} -> ${after.diskBytes}`);
    assert.equal(after.liveMessages, 31);
    await store.close();

    const { store: again, state } = await open(dir);
    assert.deepEqual(await idsOf(queueNamed(state, '/stays')), [...[...Array(30).keys()].map((i) => i * 100), 99_999]);
    assert.equal(queueNamed(state, '/gone'), undefined);
    await again.close();
  } finally {
    removeDir(dir);
  }
});

test('the segments of a dropped stream are deleted once nothing else lives in them', async () => {
  const dir = tempDir();
  try {
    const { store } = await open(dir);
    const gone = store.stream('/gone');
    for (let i = 0; i < 3000; i++) gone.append(Buffer.from('h'), body(i, 100));
    await durable(store);
    const before = store.stats().segments;
    gone.drop();
    await durable(store);
    await store.compactNow();
    assert.ok(before > 10 && store.stats().segments <= 2, `segments ${before} -> ${store.stats().segments}`);
    assert.equal(store.stats().liveMessages, 0);
    await store.close();
  } finally {
    removeDir(dir);
  }
});
