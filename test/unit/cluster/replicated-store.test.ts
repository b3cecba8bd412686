/**
 * The replicated queue store on a real PostgreSQL: group commits, reads, recovery by a new owner,
 * messages acked before their round never written, fencing, and a database restart under writes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { ClusterDatabase, type Queryable } from '../../../src/cluster/db/database.js';
import { migrateSchema } from '../../../src/cluster/db/schema.js';
import { ReplicatedStore, type Fencing } from '../../../src/cluster/replicated/replicated-store.js';
import { FencedError } from '../../../src/cluster/membership.js';
import type { MessageStream } from '../../../src/store/store.js';
import { postgresForFile } from '../../helpers/postgres.js';

const pgServer = postgresForFile();
const logger = pino({ level: 'silent' });
const NAME = JSON.stringify(['/', 'jobs']);

async function setup(fencing: Fencing = { assertCurrent: async () => undefined }) {
  const url = await pgServer.freshDatabase();
  const db = new ClusterDatabase(url, logger);
  await migrateSchema(db);
  await db.query(`INSERT INTO warren_queues (vhost, name, id, replicated, owner) VALUES ('/', 'jobs', 7, true, 'n1')`);
  const events: string[] = [];
  const store = new ReplicatedStore(db, fencing, { availability: (ok) => events.push(ok ? 'up' : 'down'), fenced: () => events.push('fenced') }, logger);
  return { db, store, events };
}

const durable = (store: ReplicatedStore): Promise<void> => new Promise((resolve) => store.whenDurable(() => resolve()));
const ids = (messages: { body: Buffer }[]): number[] => messages.map((m) => m.body.readUInt32BE(0));
function body(i: number): Buffer {
  const b = Buffer.alloc(40);
  b.writeUInt32BE(i, 0);
  return b;
}
async function rowsOf(db: ClusterDatabase): Promise<{ seq: number; delivery_count: number }[]> {
  const { rows } = await db.query<{ seq: string; delivery_count: number }>(`SELECT seq, delivery_count FROM warren_messages WHERE queue_id = 7 ORDER BY seq`);
  return rows.map((r) => ({ seq: Number(r.seq), delivery_count: r.delivery_count }));
}

test('appends become rows in group commits; acked ones go; a new owner recovers the rest in order', { skip: pgServer.skip }, async () => {
  const { db, store } = await setup();
  try {
    const stream = store.stream(NAME);
    const handles = Array.from({ length: 500 }, (_, i) => stream.append(Buffer.from('h'), body(i)));
    await durable(store);
    assert.ok(store.rounds <= 3, `500 appends in ${store.rounds} rounds`);
    for (let i = 0; i < 500; i += 2) stream.remove(handles[i]!);
    stream.markDelivered(handles[1]!);
    await durable(store);
    const rows = await rowsOf(db);
    assert.equal(rows.length, 250);
    assert.deepEqual(rows[0], { seq: handles[1], delivery_count: 1 });

    const again = new ReplicatedStore(db, { assertCurrent: async () => undefined }, { availability: () => undefined, fenced: () => undefined }, logger);
    const recovered = await again.recover(NAME);
    assert.deepEqual(ids(await recovered.stream.read(Array.from(recovered.handles))), [...Array(250).keys()].map((i) => i * 2 + 1));
    assert.equal(recovered.delivered[0], 1);
    assert.equal(recovered.delivered.reduce((a, b) => a + b, 0), 1);
    const next = recovered.stream.append(Buffer.from('h'), body(999));
    assert.ok(next > handles[499]!, 'numbering goes on after the stored messages');
  } finally {
    await db.close();
  }
});

test('a message removed before its round is written is never written; reads see unwritten ones', { skip: pgServer.skip }, async () => {
  const { db, store } = await setup();
  try {
    const stream: MessageStream = store.stream(NAME);
    const a = stream.append(Buffer.from('h'), body(1));
    const b = stream.append(Buffer.from('h'), body(2));
    const reading = stream.read([b, a]);
    stream.remove(a);
    assert.deepEqual(ids(await reading), [2, 1], 'read answers from the write buffer what is not written yet');
    await durable(store);
    assert.deepEqual((await rowsOf(db)).map((r) => r.seq), [b]);
    assert.equal(store.rowsWritten, 1);
    await assert.rejects(stream.read([a]));
  } finally {
    await db.close();
  }
});

test('dropping the stream deletes its rows', { skip: pgServer.skip }, async () => {
  const { db, store } = await setup();
  try {
    const stream = store.stream(NAME);
    for (let i = 0; i < 10; i++) stream.append(Buffer.from('h'), body(i));
    await durable(store);
    stream.drop();
    await durable(store);
    assert.deepEqual(await rowsOf(db), []);
  } finally {
    await db.close();
  }
});

test('a fenced node commits nothing and never confirms', { skip: pgServer.skip }, async () => {
  let fenced = false;
  const fencing: Fencing = {
    assertCurrent: async (_client: Queryable) => {
      if (fenced) throw new FencedError('n1', 1);
    },
  };
  const { db, store, events } = await setup(fencing);
  try {
    const stream = store.stream(NAME);
    stream.append(Buffer.from('h'), body(1));
    await durable(store);
    fenced = true;
    stream.append(Buffer.from('h'), body(2));
    let confirmed = false;
    store.whenDurable(() => (confirmed = true));
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(confirmed, false);
    assert.deepEqual(events, ['fenced']);
    assert.equal((await rowsOf(db)).length, 1);
  } finally {
    await db.close();
  }
});

test('a PostgreSQL restart under writes: rounds retry, nothing is confirmed before its commit, nothing is lost', { skip: pgServer.skip }, async () => {
  const { db, store, events } = await setup();
  try {
    const stream = store.stream(NAME);
    const confirmed: number[] = [];
    let next = 0;
    const writer = setInterval(() => {
      for (let k = 0; k < 20; k++) {
        const id = next++;
        stream.append(Buffer.from('h'), body(id));
        store.whenDurable(() => confirmed.push(id));
      }
    }, 5);
    await new Promise((resolve) => setTimeout(resolve, 150));
    await pgServer.server().kill();
    await new Promise((resolve) => setTimeout(resolve, 300));
    await pgServer.server().restart();
    await new Promise((resolve) => setTimeout(resolve, 300));
    clearInterval(writer);
    await durable(store);
    const stored = new Set((await rowsOf(db)).map((r) => r.seq - 1));
    for (const id of confirmed) assert.ok(stored.has(id), `confirmed message ${id} is stored`);
    assert.equal(stored.size, next, 'every appended message was written in the end');
    assert.ok(events.includes('down') && events.at(-1) === 'up', `availability went down and up: ${events.join(',')}`);
  } finally {
    await db.close();
  }
});
