/** queue.* methods through the channel layer. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { consumeN, roundTrip, session } from './amqp-helpers.js';

test('declare-ok reports message and consumer counts; passive declare too', async (t) => {
  const s = await session(t);
  const ch = await s.channel();
  const first = await ch.assertQueue('q');
  assert.deepEqual(first, { queue: 'q', messageCount: 0, consumerCount: 0 });
  ch.sendToQueue('q', Buffer.from('1'));
  ch.sendToQueue('q', Buffer.from('2'));
  await ch.consume('q', () => undefined, { noAck: false });
  const other = await s.channel();
  other.sendToQueue('q', Buffer.from('3'));
  await roundTrip(other);
  const again = await other.assertQueue('q');
  assert.equal(again.consumerCount, 1);
  assert.equal(again.messageCount, 0, 'all three went to the consumer');
  assert.deepEqual(await other.checkQueue('q'), { queue: 'q', messageCount: 0, consumerCount: 1 });
});

test('purge removes ready messages and reports how many', async (t) => {
  const s = await session(t);
  const ch = await s.channel();
  await ch.assertQueue('q');
  for (let i = 0; i < 4; i++) ch.sendToQueue('q', Buffer.from(String(i)));
  assert.deepEqual(await ch.purgeQueue('q'), { messageCount: 4 });
  assert.equal((await ch.checkQueue('q')).messageCount, 0);
});

test('delete reports the messages dropped; deleting a missing queue succeeds', async (t) => {
  const s = await session(t);
  const ch = await s.channel();
  await ch.assertQueue('q');
  ch.sendToQueue('q', Buffer.from('x'));
  assert.deepEqual(await ch.deleteQueue('q'), { messageCount: 1 });
  assert.deepEqual(await ch.deleteQueue('q'), { messageCount: 0 });
});

test('bind and unbind decide what a queue receives', async (t) => {
  const s = await session(t);
  const ch = await s.channel();
  await ch.assertQueue('q');
  await ch.bindQueue('q', 'amq.direct', 'k');
  ch.publish('amq.direct', 'k', Buffer.from('bound'));
  await ch.unbindQueue('q', 'amq.direct', 'k');
  ch.publish('amq.direct', 'k', Buffer.from('unbound'));
  await roundTrip(ch);
  assert.equal((await ch.checkQueue('q')).messageCount, 1);
  const [m] = await consumeN(ch, 'q', 1);
  assert.equal(m?.content.toString(), 'bound');
});

test('an auto-delete queue goes when its last consumer cancels', async (t) => {
  const s = await session(t);
  const ch = await s.channel();
  await ch.assertQueue('ad', { autoDelete: true });
  const { consumerTag } = await ch.consume('ad', () => undefined);
  await ch.cancel(consumerTag);
  assert.equal(s.broker.broker.getVhost('/')?.queues.has('ad'), false);
});

test('exclusive queues go when their connection closes', async (t) => {
  const s = await session(t);
  const conn = await s.connect();
  const ch = await conn.createChannel();
  await ch.assertQueue('mine', { exclusive: true });
  await conn.close();
  const observer = await s.channel();
  const gone = await observer.deleteQueue('mine');
  assert.deepEqual(gone, { messageCount: 0 });
  assert.equal(s.broker.broker.getVhost('/')?.queues.has('mine'), false);
});
