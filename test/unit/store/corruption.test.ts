import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync, readdirSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LogStore } from '../../../src/store/log-store.js';
import { StoreFormatError } from '../../../src/store/errors.js';
import { body, durable, idsOf, queueNamed } from './store-suite.js';
import { removeDir, tempDir } from './fixtures.js';

const segmentsOf = (dir: string): string[] => readdirSync(join(dir, 'segments')).filter((n) => n.endsWith('.wlog')).sort();

async function fill(dir: string, count: number, options: { segmentBytes?: number } = {}): Promise<void> {
  const store = new LogStore({ dataDir: dir, maintenanceIntervalMs: 0, ...options });
  await store.open();
  const q = store.stream('/q');
  for (let i = 0; i < count; i++) q.append(Buffer.from('h'), body(i, 100));
  await durable(store);
  await store.close();
}

async function recoverIds(dir: string): Promise<{ ids: number[]; problems: string[] }> {
  const store = new LogStore({ dataDir: dir, maintenanceIntervalMs: 0 });
  const state = await store.open();
  try {
    return { ids: await idsOf(queueNamed(state, '/q')), problems: state.problems };
  } finally {
    await store.close();
  }
}

test('a torn last record (cut mid-record) is cut off; everything before it comes back', async () => {
  const dir = tempDir();
  try {
    await fill(dir, 100);
    const last = join(dir, 'segments', segmentsOf(dir).at(-1) ?? '');
    const size = statSync(last).size;
    truncateSync(last, size - 37);
    const { ids, problems } = await recoverIds(dir);
    assert.deepEqual(ids, [...Array(99).keys()]);
    assert.equal(problems.length, 1);
    assert.match(problems[0] ?? '', /torn or corrupt tail/);
    assert.ok(statSync(last).size < size - 37, 'the partial record was removed from the file');
    // and it stays fixed: a second open finds nothing wrong
    assert.deepEqual((await recoverIds(dir)).problems, []);
  } finally {
    removeDir(dir);
  }
});

test('garbage after the last record (a torn write of zeros) is cut off', async () => {
  const dir = tempDir();
  try {
    await fill(dir, 10);
    appendFileSync(join(dir, 'segments', segmentsOf(dir).at(-1) ?? ''), Buffer.alloc(300));
    const { ids, problems } = await recoverIds(dir);
    assert.deepEqual(ids, [...Array(10).keys()]);
    assert.equal(problems.length, 1);
  } finally {
    removeDir(dir);
  }
});

test('a bad CRC in the middle of a sealed segment skips the rest of that segment only, and says so', async () => {
  const dir = tempDir();
  try {
    await fill(dir, 300, { segmentBytes: 8 * 1024 });
    const files = segmentsOf(dir);
    assert.ok(files.length >= 3);
    const victim = join(dir, 'segments', files[1] ?? '');
    const data = readFileSync(victim);
    const recordSize = data.readUInt32LE(16 + 4) + 8;
    const third = 16 + 2 * recordSize; // third record of the file
    data[third + 40] = (data[third + 40] ?? 0) ^ 0xff;
    writeFileSync(victim, data);
    const perSegment = Math.floor((8 * 1024 - 16) / recordSize);
    const { ids, problems } = await recoverIds(dir);
    const lost = new Set([...Array(perSegment - 2).keys()].map((i) => perSegment + 2 + i));
    assert.deepEqual(ids, [...Array(300).keys()].filter((i) => !lost.has(i)));
    assert.equal(problems.length, 1);
    assert.match(problems[0] ?? '', /corrupt record at offset/);
    assert.equal(readFileSync(victim).length, data.length, 'a sealed file is not truncated');
  } finally {
    removeDir(dir);
  }
});

test('a segment written by a newer format version is refused with a clear error', async () => {
  const dir = tempDir();
  try {
    await fill(dir, 5);
    const first = join(dir, 'segments', segmentsOf(dir)[0] ?? '');
    const data = readFileSync(first);
    data.writeUInt32LE(99, 8);
    writeFileSync(first, data);
    const store = new LogStore({ dataDir: dir, maintenanceIntervalMs: 0 });
    await assert.rejects(store.open(), (error: unknown) => error instanceof StoreFormatError && /newer Warren/.test(error.message));
    // the failed open released the lock
    await recoverIds(dir).catch((error: unknown) => assert.ok(error instanceof StoreFormatError));
  } finally {
    removeDir(dir);
  }
});

test('a damaged definitions journal keeps everything before the damage', async () => {
  const dir = tempDir();
  try {
    const store = new LogStore({ dataDir: dir, maintenanceIntervalMs: 0 });
    await store.open();
    store.putDefinition('vhost', '/', { name: '/' });
    await durable(store);
    await store.close();
    appendFileSync(join(dir, 'definitions.wdef'), Buffer.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]));
    const again = new LogStore({ dataDir: dir, maintenanceIntervalMs: 0 });
    const state = await again.open();
    await again.close();
    assert.deepEqual(state.definitions, [{ kind: 'vhost', key: '/', value: { name: '/' } }]);
    assert.equal(state.problems.length, 1);
  } finally {
    removeDir(dir);
  }
});
