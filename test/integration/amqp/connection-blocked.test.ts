import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import amqp from 'amqplib';
import { startBroker, type TestBroker } from '../../helpers/broker.js';

describe('AMQP resource alarms (connection.blocked)', () => {
  let server: TestBroker;
  before(async () => {
    server = await startBroker();
  });
  after(() => server.close());

  const connectionState = (product: string): string | undefined =>
    [...server.listener.amqpConnections].find((c) => c.info().clientProperties['test'] === product)?.info().state;

  it('blocks publishers at their next publish, leaves consumers running, and unblocks them', async () => {
    const publisherConn = await amqp.connect(server.url, { clientProperties: { test: 'publisher' } });
    const consumerConn = await amqp.connect(server.url, { clientProperties: { test: 'consumer' } });
    try {
      const pub = await publisherConn.createChannel();
      const sub = await consumerConn.createChannel();
      await sub.assertQueue('alarm-q');
      const received: string[] = [];
      await sub.consume('alarm-q', (msg) => msg && received.push(msg.content.toString()), { noAck: true });

      const blocked = once(publisherConn, 'blocked');
      server.listener.setBlocked('low on memory');
      assert.equal(connectionState('publisher'), 'blocking', 'not blocked before it publishes');
      pub.sendToQueue('alarm-q', Buffer.from('held'));
      const [reason] = await blocked;
      assert.equal(reason, 'low on memory');
      assert.equal(connectionState('publisher'), 'blocked');
      assert.equal(connectionState('consumer'), 'blocking');
      await sleep(100);
      // The publish was read before the socket paused; later ones wait in the kernel buffers.
      pub.sendToQueue('alarm-q', Buffer.from('waiting'));
      await sleep(100);
      assert.ok(!received.includes('waiting'), 'nothing is read from a blocked publisher');

      const unblocked = once(publisherConn, 'unblocked');
      server.listener.setBlocked(undefined);
      await unblocked;
      assert.equal(connectionState('publisher'), 'running');
      const deadline = Date.now() + 2000;
      while (!received.includes('waiting') && Date.now() < deadline) await sleep(10);
      assert.deepEqual(received, ['held', 'waiting']);
    } finally {
      await publisherConn.close();
      await consumerConn.close();
    }
  });

  it('blocks a connection opened while the alarm is on, once it publishes', async () => {
    server.listener.setBlocked('low on disk');
    const conn = await amqp.connect(server.url, { clientProperties: { test: 'late' } });
    try {
      const ch = await conn.createChannel();
      const blocked = once(conn, 'blocked');
      ch.publish('amq.direct', 'nowhere', Buffer.from('x'));
      const [reason] = await blocked;
      assert.equal(reason, 'low on disk');
      const unblocked = once(conn, 'unblocked');
      server.listener.setBlocked(undefined);
      await unblocked;
    } finally {
      server.listener.setBlocked(undefined);
      await conn.close();
    }
  });
});
