import { test } from 'node:test';
import assert from 'node:assert/strict';
import amqp from 'amqplib';
import { fieldNumber } from '../../../src/broker/message.js';
import { DataDirLockedError } from '../../../src/store/errors.js';
import { startServer, tempDataDir } from './helpers.js';

async function withDataDir(run: (dir: string) => Promise<void>): Promise<void> {
  const { dir, cleanup } = await tempDataDir();
  try {
    await run(dir);
  } finally {
    await cleanup();
  }
}

test('durable exchanges, queues, bindings, vhosts, users and permissions survive a restart; transient ones do not', async () => {
  await withDataDir(async (dir) => {
    const first = await startServer(dir);
    try {
      const connection = await amqp.connect(first.url);
      const ch = await connection.createChannel();
      await ch.assertExchange('orders', 'topic', { durable: true, arguments: { 'alternate-exchange': 'lost' } });
      await ch.assertExchange('lost', 'fanout', { durable: true });
      await ch.assertExchange('temp-x', 'direct', { durable: false });
      await ch.assertExchange('e2e', 'direct', { durable: true });
      await ch.assertQueue('q-durable', { durable: true, arguments: { 'x-max-length': 1000, 'x-custom': Buffer.from([1, 2]) } });
      await ch.assertQueue('q-transient', { durable: false });
      await ch.assertQueue('q-exclusive', { durable: true, exclusive: true });
      await ch.bindQueue('q-durable', 'orders', 'eu.#', { 'x-note': 'kept' });
      await ch.bindQueue('q-durable', 'amq.direct', 'k');
      await ch.bindQueue('q-transient', 'orders', 'us.#');
      await ch.bindExchange('e2e', 'orders', 'e2e.*');
      await ch.bindQueue('q-durable', 'temp-x', 'k');
      await ch.assertQueue('q-deleted', { durable: true });
      await ch.deleteQueue('q-deleted');
      await connection.close();
      first.server.broker.addVhost('shop');
      first.server.users.addUser('alice', 'wonderland', ['management']);
      first.server.users.setPermissions('alice', 'shop', { configure: '^a', write: '.*', read: '' });
      first.server.users.changePassword('guest', 'secret');
    } finally {
      await first.server.stop();
    }

    const second = await startServer(dir);
    try {
      const vhost = second.server.broker.getVhost('/')!;
      assert.deepEqual([...vhost.queues.keys()].sort(), ['q-durable']);
      const queue = vhost.getQueue('q-durable')!;
      assert.equal(fieldNumber(queue.arguments['x-max-length']), 1000);
      assert.deepEqual(queue.arguments['x-custom'], Buffer.from([1, 2]));
      assert.equal(vhost.getExchange('temp-x'), undefined);
      const orders = vhost.getExchange('orders')!;
      assert.equal(orders.type, 'topic');
      assert.equal(orders.alternateExchange, 'lost');
      const bindings = [...orders.bindings.values()].map((b) => `${b.destination.kind}:${b.destination.name}:${b.routingKey}`).sort();
      assert.deepEqual(bindings, ['exchange:e2e:e2e.*', 'queue:q-durable:eu.#']);
      assert.deepEqual([...orders.bindings.values()].find((b) => b.destination.name === 'q-durable')!.arguments, { 'x-note': 'kept' });
      assert.equal(vhost.getExchange('amq.direct')!.bindings.size, 1);
      assert.ok(second.server.broker.getVhost('shop'));
      assert.deepEqual(second.server.users.getUser('alice')?.tags, ['management']);
      const perms = second.server.users.listPermissions().find((p) => p.user === 'alice');
      assert.deepEqual(perms, { user: 'alice', vhost: 'shop', configure: '^a', write: '.*', read: '' });
      assert.equal(second.server.users.authenticate('alice', 'wonderland', '127.0.0.1').ok, true);
      // The changed password survived; the config's guest/guest did not overwrite it.
      assert.equal(second.server.users.authenticate('guest', 'guest', '127.0.0.1').ok, false);
      assert.equal(second.server.users.authenticate('guest', 'secret', '127.0.0.1').ok, true);
    } finally {
      await second.server.stop();
    }
  });
});

test('a user deleted through the registry stays deleted, though the config names it', async () => {
  await withDataDir(async (dir) => {
    const first = await startServer(dir);
    assert.ok(first.server.users.getUser('guest'));
    first.server.users.addUser('admin', 'pw', ['administrator']);
    first.server.users.deleteUser('guest');
    await first.server.stop();
    const second = await startServer(dir);
    try {
      assert.equal(second.server.users.getUser('guest'), undefined);
      assert.ok(second.server.users.getUser('admin'));
    } finally {
      await second.server.stop();
    }
  });
});

test('persistent messages in durable queues survive in order; transient ones and non-durable queues do not; unacked come back redelivered', async () => {
  await withDataDir(async (dir) => {
    let unackedPersistent: string[] = [];
    const first = await startServer(dir);
    try {
      const connection = await amqp.connect(first.url);
      const ch = await connection.createConfirmChannel();
      await ch.assertQueue('jobs', { durable: true });
      await ch.assertQueue('scratch', { durable: false });
      await ch.assertExchange('fan', 'fanout', { durable: true });
      await ch.assertQueue('copy-a', { durable: true });
      await ch.assertQueue('copy-b', { durable: true });
      await ch.bindQueue('copy-a', 'fan', '');
      await ch.bindQueue('copy-b', 'fan', '');
      for (let i = 0; i < 50; i++) {
        ch.sendToQueue('jobs', Buffer.from(`p${i}`), { persistent: true, headers: { n: i }, messageId: `m${i}` });
        ch.sendToQueue('jobs', Buffer.from(`t${i}`), { persistent: false });
        ch.sendToQueue('scratch', Buffer.from(`s${i}`), { persistent: true });
        ch.publish('fan', '', Buffer.from(`f${i}`), { persistent: true });
      }
      await ch.waitForConfirms();
      // Take 8 (p0 t0 p1 t1 p2 t2 p3 t3), ack p0 and p1 (gone for good); p2 and p3 stay unacked.
      const consumer = await connection.createChannel();
      await consumer.prefetch(8);
      const got: amqp.ConsumeMessage[] = [];
      await new Promise<void>((resolve) => {
        void consumer.consume('jobs', (message) => {
          if (message === null) return;
          got.push(message);
          if (got.length === 8) resolve();
        });
      });
      const persistentTaken = got.filter((m) => m.properties.deliveryMode === 2);
      const toAck = persistentTaken.slice(0, 2);
      for (const message of toAck) consumer.ack(message);
      // A round trip on the channel: the acks before it have been handled (amqplib may send
      // connection.close ahead of channel frames it still buffers).
      await consumer.checkQueue('jobs');
      // Acking freed prefetch, so more may have been delivered since: all of those stay unacked.
      unackedPersistent = got.filter((m) => m.properties.deliveryMode === 2).slice(2).map((m) => m.content.toString());
      await connection.close();
    } finally {
      await first.server.stop();
    }

    const second = await startServer(dir);
    try {
      const vhost = second.server.broker.getVhost('/')!;
      assert.equal(vhost.getQueue('scratch'), undefined);
      const connection = await amqp.connect(second.url);
      const ch = await connection.createChannel();
      const jobs = await drain(ch, 'jobs');
      // p0 and p1 were acked; p2, p3, ... (delivered, unacked) come back redelivered; transient ones are gone.
      assert.deepEqual(jobs.map((m) => m.content.toString()), Array.from({ length: 48 }, (_, i) => `p${i + 2}`));
      const redelivered = jobs.filter((m) => m.fields.redelivered).map((m) => m.content.toString());
      assert.ok(unackedPersistent.length >= 2);
      assert.deepEqual(redelivered, unackedPersistent);
      assert.equal(jobs[5]!.properties.headers?.['n'], 7);
      assert.equal(jobs[5]!.properties.messageId, 'm7');
      assert.equal(jobs[5]!.properties.deliveryMode, 2);
      assert.equal(jobs[5]!.fields.exchange, '');
      assert.equal(jobs[5]!.fields.routingKey, 'jobs');
      for (const name of ['copy-a', 'copy-b']) {
        const copies = await drain(ch, name);
        assert.deepEqual(copies.map((m) => m.content.toString()), Array.from({ length: 50 }, (_, i) => `f${i}`));
        assert.equal(copies[0]!.fields.exchange, 'fan');
      }
      await connection.close();
    } finally {
      await second.server.stop();
    }

    // Everything was acked (basic.get no-ack): a third start finds nothing.
    const third = await startServer(dir);
    try {
      assert.equal(third.server.broker.getVhost('/')!.getQueue('jobs')!.readyCount(), 0);
      assert.equal(third.server.broker.getVhost('/')!.getQueue('copy-a')!.readyCount(), 0);
    } finally {
      await third.server.stop();
    }
  });
});

test('a deleted durable queue does not come back, nor do its messages', async () => {
  await withDataDir(async (dir) => {
    const first = await startServer(dir);
    try {
      const connection = await amqp.connect(first.url);
      const ch = await connection.createConfirmChannel();
      await ch.assertQueue('doomed', { durable: true });
      for (let i = 0; i < 20; i++) ch.sendToQueue('doomed', Buffer.from(`d${i}`), { persistent: true });
      await ch.waitForConfirms();
      await ch.deleteQueue('doomed');
      await ch.assertQueue('doomed', { durable: true });
      ch.sendToQueue('doomed', Buffer.from('fresh'), { persistent: true });
      await ch.waitForConfirms();
      await connection.close();
    } finally {
      await first.server.stop();
    }
    const second = await startServer(dir);
    try {
      const connection = await amqp.connect(second.url);
      const ch = await connection.createChannel();
      assert.deepEqual((await drain(ch, 'doomed')).map((m) => m.content.toString()), ['fresh']);
      await connection.close();
    } finally {
      await second.server.stop();
    }
  });
});

test('the data dir is locked: a second server on it refuses to start with a clear message', async () => {
  await withDataDir(async (dir) => {
    const first = await startServer(dir);
    try {
      await assert.rejects(startServer(dir), (error: unknown) => {
        assert.ok(error instanceof DataDirLockedError);
        assert.match((error as Error).message, new RegExp(`data directory ${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is in use by process ${process.pid}`));
        return true;
      });
    } finally {
      await first.server.stop();
    }
    // Released on stop: the next one starts.
    const again = await startServer(dir);
    await again.server.stop();
  });
});

/** basic.get (no-ack) until empty. */
async function drain(ch: amqp.Channel, queue: string): Promise<amqp.GetMessage[]> {
  const out: amqp.GetMessage[] = [];
  for (;;) {
    const message = await ch.get(queue, { noAck: true });
    if (message === false) return out;
    out.push(message);
  }
}
