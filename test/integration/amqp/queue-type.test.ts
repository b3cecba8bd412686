/** x-queue-type: RabbitMQ's values and declare rules. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Options } from 'amqplib';
import { expectChannelError, getOne, session, type Session } from './amqp-helpers.js';

async function refusedDeclare(s: Session, queue: string, options: Options.AssertQueue, replyText: string): Promise<void> {
  const ch = await s.channel();
  await expectChannelError(ch, () => ch.assertQueue(queue, options), 406, replyText);
}

test('classic and quorum queues are declared; a quorum queue works as a durable queue', async (t) => {
  const s = await session(t);
  const ch = await s.channel();
  await ch.assertQueue('plain', { arguments: { 'x-queue-type': 'classic' } });
  await ch.assertQueue('replicated', { durable: true, arguments: { 'x-queue-type': 'quorum' } });
  assert.equal(s.broker.broker.getVhost('/')?.getQueue('replicated')?.durable, true);
  ch.sendToQueue('replicated', Buffer.from('kept'), { persistent: true });
  assert.equal((await getOne(ch, 'replicated')).content.toString(), 'kept');
});

test('an unknown queue type is 406 with RabbitMQ 3.10 text', async (t) => {
  const s = await session(t);
  await refusedDeclare(
    s,
    'q',
    { arguments: { 'x-queue-type': 'lazy' } },
    `PRECONDITION_FAILED - invalid arg 'x-queue-type' for queue 'q' in vhost '/': "unsupported queue type 'lazy'"`,
  );
  await refusedDeclare(
    s,
    'q',
    { arguments: { 'x-queue-type': true } },
    "PRECONDITION_FAILED - invalid arg 'x-queue-type' for queue 'q' in vhost '/': {unacceptable_type,bool}",
  );
  assert.equal(s.broker.broker.getVhost('/')?.getQueue('q'), undefined);
});

test('a quorum queue must be durable, not exclusive and not auto-delete, checked in that order', async (t) => {
  const s = await session(t);
  const quorum = { arguments: { 'x-queue-type': 'quorum' } };
  const refused = (property: string) => `PRECONDITION_FAILED - invalid property '${property}' for queue 'qq' in vhost '/'`;
  await refusedDeclare(s, 'qq', { ...quorum, durable: false }, refused('non-durable'));
  await refusedDeclare(s, 'qq', { ...quorum, exclusive: true }, refused('exclusive-owner'));
  await refusedDeclare(s, 'qq', { ...quorum, autoDelete: true, exclusive: true }, refused('auto-delete'));
  assert.equal(s.broker.broker.getVhost('/')?.getQueue('qq'), undefined);
});

test('a stream queue is declared durable; non-durable it is refused as in RabbitMQ (more in test/integration/streams)', async (t) => {
  const s = await session(t);
  const ch = await s.channel();
  await ch.assertQueue('events', { durable: true, arguments: { 'x-queue-type': 'stream' } });
  assert.notEqual(s.broker.broker.getVhost('/')?.getQueue('events')?.stream, undefined);
  await refusedDeclare(
    s,
    'events2',
    { durable: false, arguments: { 'x-queue-type': 'stream' } },
    "PRECONDITION_FAILED - invalid property 'non-durable' for queue 'events2' in vhost '/'",
  );
});
