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
