import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RecordTables } from '../../../src/broker/records.js';
import { MemoryImage, MemoryStore } from '../../../src/store/memory-store.js';
import { BrokerError } from '../../../src/broker/errors.js';

test('records: conditional puts (ifAbsent, ifTagIn), counts per tag, pages newest first', () => {
  const records = new RecordTables();
  assert.equal(records.put('/', 't', 'a', 'waiting', 1, { ifAbsent: true }, 1), true);
  assert.equal(records.put('/', 't', 'a', 'waiting', 2, { ifAbsent: true }, 2), false);
  assert.equal(records.get('/', 't', 'a')?.value, 1);
  assert.equal(records.put('/', 't', 'a', 'active', 3, { ifTagIn: ['waiting'] }, 3), true);
  assert.equal(records.put('/', 't', 'a', 'completed', 4, { ifTagIn: ['waiting'] }, 4), false);
  assert.equal(records.put('/', 't', 'missing', 'x', 0, { ifTagIn: ['waiting'] }, 4), false);
  records.put('/', 't', 'b', 'waiting', 5, {}, 5);
  records.put('/', 't', 'c', 'waiting', 6, {}, 6);
  assert.deepEqual(records.counts('/', 't'), { active: 1, waiting: 2 });
  assert.deepEqual(records.list('/', 't', { tag: 'waiting' }).map((r) => r.key), ['c', 'b']);
  assert.deepEqual(records.list('/', 't', { tag: 'waiting', ascending: true, offset: 1, limit: 5 }).map((r) => r.key), ['c']);
  assert.deepEqual(records.counts('/', 'other'), {});
  assert.deepEqual(records.counts('/other-vhost', 't'), {});
});

test('records: trim by count and age, oldest first, with a limit', () => {
  const records = new RecordTables();
  for (let i = 0; i < 10; i++) records.put('/', 't', `k${i}`, 'done', i, {}, i * 1000);
  assert.deepEqual(records.trim('/', 't', { tag: 'done', keep: 7 }, 10_000), ['k0', 'k1', 'k2']);
  assert.deepEqual(records.trim('/', 't', { tag: 'done', maxAgeMs: 4500 }, 10_000), ['k3', 'k4', 'k5']);
  assert.deepEqual(records.trim('/', 't', { tag: 'done', keep: 0, limit: 2 }, 10_000), ['k6', 'k7']);
  assert.deepEqual(records.list('/', 't').map((r) => r.key), ['k9', 'k8']);
});

test('records are written to the definitions journal and restored from it; a deleted vhost drops them', async () => {
  const image = new MemoryImage();
  const store = new MemoryStore({ image });
  await store.open();
  const records = new RecordTables();
  records.persistTo(store);
  records.put('/', 'jobs', 'j1', 'completed', { returnvalue: 42 }, {}, 7);
  records.put('/', 'jobs', 'j2', 'waiting', {}, {}, 8);
  records.delete('/', 'jobs', 'j2');
  const restored = new RecordTables();
  await store.close();
  const reopened = new MemoryStore({ image });
  restored.restore((await reopened.open()).definitions);
  assert.deepEqual(restored.get('/', 'jobs', 'j1'), { key: 'j1', tag: 'completed', value: { returnvalue: 42 }, updatedAt: 7 });
  assert.equal(restored.get('/', 'jobs', 'j2'), undefined);
  restored.persistTo(reopened);
  restored.dropVhost('/');
  assert.equal([...image.definitions.values()].filter((d) => d.kind === 'record').length, 0);
});

test('records refuse empty or oversized names with an invalid-argument error', () => {
  const records = new RecordTables();
  assert.throws(() => records.put('/', '', 'k', 't', 1), BrokerError);
  assert.throws(() => records.put('/', 't', 'x'.repeat(2000), 't', 1), BrokerError);
});

test('records: a refused conditional put creates no table (and writes nothing to the journal)', async () => {
  const image = new MemoryImage();
  const store = new MemoryStore({ image });
  await store.open();
  const records = new RecordTables();
  records.persistTo(store);
  assert.equal(records.put('/', 'gone', 'k', 'processed', 1, { ifTagIn: ['pending'] }), false);
  assert.deepEqual(records.tablesOf('/'), []);
  // ifAbsent refused by an existing record: the table is the one that was there, nothing new.
  records.put('/', 'deps', 'a', 'pending', null);
  assert.equal(records.put('/', 'deps', 'a', 'pending', 2, { ifAbsent: true }), false);
  assert.equal(records.put('/other', 'deps', 'a', 'processed', 3, { ifTagIn: ['pending'] }), false);
  assert.deepEqual(records.tablesOf('/'), [{ name: 'deps', records: 1 }]);
  assert.deepEqual(records.tablesOf('/other'), []);
  assert.deepEqual([...image.definitions.values()].filter((d) => d.kind === 'record').map((d) => d.key), [JSON.stringify(['/', 'deps', 'a'])]);
  await store.close();
});

test('records: a conditional delete (ifTagIn) removes the record only in one of those states', () => {
  const records = new RecordTables();
  records.put('/', 't', 'child', 'active', 1);
  assert.equal(records.delete('/', 't', 'child', { ifTagIn: ['waiting', 'delayed'] }), false);
  assert.equal(records.get('/', 't', 'child')?.tag, 'active');
  records.put('/', 't', 'child', 'delayed', 2);
  assert.equal(records.delete('/', 't', 'child', { ifTagIn: ['waiting', 'delayed'] }), true);
  assert.equal(records.delete('/', 't', 'child', { ifTagIn: ['waiting', 'delayed'] }), false);
  assert.deepEqual(records.tablesOf('/'), []);
});

test('records: a merge put lays its fields over the current value without changing the object the journal holds', async () => {
  const image = new MemoryImage();
  const store = new MemoryStore({ image });
  await store.open();
  const records = new RecordTables();
  records.persistTo(store);
  records.put('/', 'jobs', 'j', 'waiting', { name: 'email', attemptsMade: 0 }, {}, 1);
  const before = records.get('/', 'jobs', 'j')!.value;
  assert.equal(records.put('/', 'jobs', 'j', 'completed', { finishedOn: 5, attemptsMade: 1 }, { ifTagIn: ['waiting'] }, 2, { merge: true }), true);
  assert.deepEqual(records.get('/', 'jobs', 'j')?.value, { name: 'email', attemptsMade: 1, finishedOn: 5 });
  assert.deepEqual(before, { name: 'email', attemptsMade: 0 });
  // Nothing to merge into (no record, or a value that is not an object): the value is taken as it is.
  records.put('/', 'jobs', 'k', 'waiting', 7, {}, 3);
  records.put('/', 'jobs', 'k', 'waiting', { a: 1 }, {}, 4, { merge: true });
  records.put('/', 'jobs', 'new', 'waiting', [1, 2], {}, 5, { merge: true });
  assert.deepEqual(records.get('/', 'jobs', 'k')?.value, { a: 1 });
  assert.deepEqual(records.get('/', 'jobs', 'new')?.value, [1, 2]);
  // A refused merge changes nothing.
  assert.equal(records.put('/', 'jobs', 'j', 'active', { x: 1 }, { ifTagIn: ['waiting'] }, 6, { merge: true }), false);
  assert.deepEqual(records.get('/', 'jobs', 'j')?.value, { name: 'email', attemptsMade: 1, finishedOn: 5 });
  await store.close();
  const restored = new RecordTables();
  restored.restore((await new MemoryStore({ image }).open()).definitions);
  assert.deepEqual(restored.get('/', 'jobs', 'j'), { key: 'j', tag: 'completed', value: { name: 'email', attemptsMade: 1, finishedOn: 5 }, updatedAt: 2 });
});

test('records: a transient put is seen at once but not journalled; a restart brings back the last journalled state', async () => {
  const image = new MemoryImage();
  const store = new MemoryStore({ image });
  await store.open();
  const records = new RecordTables();
  records.persistTo(store);
  records.put('/', 'jobs', 'taken', 'waiting', { n: 1 }, {}, 1);
  records.put('/', 'jobs', 'finished', 'waiting', { n: 2 }, {}, 1);
  records.put('/', 'jobs', 'taken', 'active', { processedOn: 9 }, { ifTagIn: ['waiting'] }, 2, { merge: true, transient: true });
  records.put('/', 'jobs', 'finished', 'active', { processedOn: 9 }, { ifTagIn: ['waiting'] }, 2, { merge: true, transient: true });
  records.put('/', 'jobs', 'finished', 'completed', { finishedOn: 10 }, { ifTagIn: ['active'] }, 3, { merge: true });
  records.put('/', 'jobs', 'only-in-memory', 'active', {}, {}, 4, { transient: true });
  assert.deepEqual(records.counts('/', 'jobs'), { active: 2, completed: 1 });
  assert.deepEqual(records.get('/', 'jobs', 'taken')?.value, { n: 1, processedOn: 9 });
  await store.close();
  const restored = new RecordTables();
  restored.restore((await new MemoryStore({ image }).open()).definitions);
  assert.deepEqual(restored.get('/', 'jobs', 'taken'), { key: 'taken', tag: 'waiting', value: { n: 1 }, updatedAt: 1 });
  // The journalled put after the transient one carries what the transient one merged in.
  assert.deepEqual(restored.get('/', 'jobs', 'finished')?.value, { n: 2, processedOn: 9, finishedOn: 10 });
  assert.equal(restored.get('/', 'jobs', 'only-in-memory'), undefined);
});

test('records: pages in both orders, an empty page for limit 0 or an offset past the end', () => {
  const records = new RecordTables();
  for (let i = 0; i < 5; i++) records.put('/', 't', `k${i}`, 'waiting', i, {}, i);
  const keys = (request: Parameters<RecordTables['list']>[2]) => records.list('/', 't', request).map((r) => r.key);
  assert.deepEqual(keys({ ascending: true, offset: 1, limit: 2 }), ['k1', 'k2']);
  assert.deepEqual(keys({ offset: 1, limit: 2 }), ['k3', 'k2']);
  assert.deepEqual(keys({ tag: 'waiting', ascending: true, offset: 3 }), ['k3', 'k4']);
  assert.deepEqual(keys({ limit: 0 }), []);
  assert.deepEqual(keys({ offset: 5 }), []);
  assert.deepEqual(keys({ ascending: true, offset: 4, limit: 10 }), ['k4']);
});
