import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dependencies, dependencyCounts, snapshotOf } from '../../../src/jobs/dependencies.js';
import type { StateClient } from '../../../src/jobs/state-client.js';

/** A snapshot is all these read: a StateClient that is never called. */
const unused = new Proxy({}, { get: () => assert.fail('the snapshot should be enough') }) as unknown as StateClient;
const parent = { id: 'p', queue: 'q' };

const snapshot = snapshotOf([
  { key: 'c:1', tag: 'processed', value: 10, updated_at: 1 },
  { key: 'c:2', tag: 'pending', value: null, updated_at: 2 },
  { key: 'c:3', tag: 'processed', value: { x: 1 }, updated_at: 3 },
  { key: 'c:4', tag: 'ignored', value: 'bad', updated_at: 4 },
  { key: 'c:5', tag: 'failed', value: 'worse', updated_at: 5 },
  { key: 'c:6', tag: 'processed', value: null, updated_at: 6 },
]);

test('dependencies: a snapshot sorts the records by fate, in their order', () => {
  assert.deepEqual(snapshot, { processed: { 'c:1': 10, 'c:3': { x: 1 }, 'c:6': null }, unprocessed: ['c:2'], failed: ['c:5'], ignored: { 'c:4': 'bad' } });
});

test('dependencies: pages of a snapshot follow BullMQ cursors (0 once there is no more), only the types asked for', async () => {
  assert.deepEqual(await dependencies(unused, parent, snapshot, { processed: { count: 2 } }), { processed: { 'c:1': 10, 'c:3': { x: 1 } }, nextProcessedCursor: 2 });
  assert.deepEqual(await dependencies(unused, parent, snapshot, { processed: { cursor: 2, count: 2 } }), { processed: { 'c:6': null }, nextProcessedCursor: 0 });
  assert.deepEqual(await dependencies(unused, parent, snapshot, { unprocessed: {}, failed: { cursor: 0, count: 5 }, ignored: { cursor: 1 } }), {
    unprocessed: ['c:2'],
    nextUnprocessedCursor: 0,
    failed: ['c:5'],
    nextFailedCursor: 0,
    ignored: {},
    nextIgnoredCursor: 0,
  });
  assert.deepEqual(await dependencies(unused, parent, snapshot), snapshot);
  assert.deepEqual(await dependencyCounts(unused, parent, snapshot, ['processed', 'unprocessed', 'ignored', 'failed']), { processed: 3, unprocessed: 1, ignored: 1, failed: 1 });
  assert.deepEqual(await dependencyCounts(unused, parent, snapshot, ['failed']), { failed: 1 });
});
