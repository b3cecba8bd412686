/** Every channel-layer error path, with RabbitMQ's reply code and reply text. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Message } from 'amqplib';
import { MethodId } from '../../../src/amqp/spec/generated.js';
import { RawAmqpClient } from './connection-raw-client.js';
import { expectChannelError, expectConnectionError, rawRpc, session } from './amqp-helpers.js';

test('404: passive declares, publish, consume and get on missing things', async (t) => {
  const s = await session(t);
  let ch = await s.channel();
  await expectChannelError(ch, () => ch.checkQueue('nope'), 404, "NOT_FOUND - no queue 'nope' in vhost '/'");
  ch = await s.channel();
  await expectChannelError(ch, () => ch.checkExchange('nope'), 404, "NOT_FOUND - no exchange 'nope' in vhost '/'");
  ch = await s.channel();
  await expectChannelError(ch, () => ch.consume('nope', () => undefined), 404, "NOT_FOUND - no queue 'nope' in vhost '/'");
  ch = await s.channel();
  await expectChannelError(ch, () => ch.get('nope'), 404, "NOT_FOUND - no queue 'nope' in vhost '/'");
  ch = await s.channel();
  await expectChannelError(ch, () => ch.publish('nope', 'k', Buffer.from('x')), 404, "NOT_FOUND - no exchange 'nope' in vhost '/'");
  ch = await s.channel();
  await expectChannelError(ch, () => ch.bindQueue('nope', 'amq.direct', 'k'), 404, "NOT_FOUND - no queue 'nope' in vhost '/'");
});

test('404: an empty queue name with no queue declared on the channel', async (t) => {
  const s = await session(t);
  const ch = await s.channel();
  await expectChannelError(ch, () => ch.checkQueue(''), 404, 'NOT_FOUND - no previously declared queue');
});

test('an empty queue name means the last queue declared on the channel', async (t) => {
  const s = await session(t);
  const ch = await s.channel();
  const { queue } = await ch.assertQueue('', { exclusive: true });
  await ch.bindQueue('', 'amq.direct', ''); // routing key "" becomes the queue name
  ch.publish('amq.direct', queue, Buffer.from('via shortcut'));
  await ch.checkExchange('amq.direct');
  const got = await ch.get('');
  assert.ok(got);
  assert.equal(got.content.toString(), 'via shortcut');
});

test('405: an exclusive queue of another connection', async (t) => {
  const s = await session(t);
  const owner = await s.channel();
  await owner.assertQueue('mine', { exclusive: true });
  const other = await (await s.connect()).createChannel();
  other.on('error', () => undefined);
  await expectChannelError(
    other,
    () => other.consume('mine', () => undefined),
    405,
    "RESOURCE_LOCKED - cannot obtain exclusive access to locked queue 'mine' in vhost '/'. It could be originally declared on another connection or the exclusive property value does not match that of the original declaration.",
  );
});

test('406: inequivalent redeclare of a queue and of an exchange', async (t) => {
  const s = await session(t);
  let ch = await s.channel();
  await ch.assertQueue('q', { durable: false });
  await expectChannelError(
    ch,
    () => ch.assertQueue('q', { durable: true }),
    406,
    "PRECONDITION_FAILED - inequivalent arg 'durable' for queue 'q' in vhost '/': received 'true' but current is 'false'",
  );
  ch = await s.channel();
  await ch.assertExchange('x', 'direct', { durable: false });
  await expectChannelError(
    ch,
    () => ch.assertExchange('x', 'fanout', { durable: false }),
    406,
    "PRECONDITION_FAILED - inequivalent arg 'type' for exchange 'x' in vhost '/': received 'fanout' but current is 'direct'",
  );
});

test('406: unknown delivery tag, and a double ack', async (t) => {
  const s = await session(t);
  let ch = await s.channel();
  const fake = { fields: { deliveryTag: 99 } } as unknown as Message;
  await expectChannelError(ch, () => ch.ack(fake), 406, 'PRECONDITION_FAILED - unknown delivery tag 99');

  ch = await s.channel();
  await ch.assertQueue('q');
  ch.sendToQueue('q', Buffer.from('x'));
  await ch.checkQueue('q');
  const m = await ch.get('q');
  assert.ok(m);
  ch.ack(m);
  await expectChannelError(ch, () => ch.ack(m), 406, `PRECONDITION_FAILED - unknown delivery tag ${m.fields.deliveryTag}`);

  ch = await s.channel();
  await expectChannelError(ch, () => ch.nack(fake, true), 406, 'PRECONDITION_FAILED - unknown delivery tag 99');
});

test('406: in-use and not-empty deletes', async (t) => {
  const s = await session(t);
  let ch = await s.channel();
  await ch.assertExchange('used', 'direct');
  await ch.assertQueue('q');
  await ch.bindQueue('q', 'used', 'k');
  await expectChannelError(ch, () => ch.deleteExchange('used', { ifUnused: true }), 406, "PRECONDITION_FAILED - exchange 'used' in vhost '/' in use");
  ch = await s.channel();
  ch.sendToQueue('q', Buffer.from('x'));
  await expectChannelError(ch, () => ch.deleteQueue('q', { ifEmpty: true }), 406, "PRECONDITION_FAILED - queue 'q' in vhost '/' is not empty");
});

test('406: a message over the configured maximum size', async (t) => {
  const s = await session(t, { listener: { limits: { maxMessageBytes: 1024 } } });
  const ch = await s.channel();
  await ch.assertQueue('q');
  ch.sendToQueue('q', Buffer.alloc(1024)); // exactly the limit is fine
  await ch.checkQueue('q');
  await expectChannelError(
    ch,
    () => ch.sendToQueue('q', Buffer.alloc(2000)),
    406,
    'PRECONDITION_FAILED - message size 2000 is larger than configured max size 1024',
  );
  const again = await s.channel();
  assert.equal((await again.checkQueue('q')).messageCount, 1);
});

test('406: user_id that is not the authenticated user', async (t) => {
  const s = await session(t);
  const ch = await s.channel();
  await expectChannelError(
    ch,
    () => ch.publish('amq.direct', 'k', Buffer.from('x'), { userId: 'mallory' }),
    406,
    "PRECONDITION_FAILED - user_id property set to 'mallory' but authenticated user was 'guest'",
  );
});

test('406: direct reply-to misuse', async (t) => {
  const s = await session(t);
  let ch = await s.channel();
  await expectChannelError(
    ch,
    () => ch.consume('amq.rabbitmq.reply-to', () => undefined, { noAck: false }),
    406,
    'PRECONDITION_FAILED - reply consumer cannot acknowledge',
  );
  ch = await s.channel();
  await expectChannelError(
    ch,
    () => ch.sendToQueue('rpc', Buffer.from('x'), { replyTo: 'amq.rabbitmq.reply-to' }),
    406,
    'PRECONDITION_FAILED - fast reply consumer does not exist',
  );
});

test('406: tx and confirm modes exclude each other; commit needs tx.select', async (t) => {
  const s = await session(t);
  let ch = await s.channel();
  await expectChannelError(ch, () => rawRpc(ch, 'TxCommit', {}, 'TxCommitOk'), 406, 'PRECONDITION_FAILED - channel is not transactional');
  ch = await s.channel();
  await expectChannelError(ch, () => rawRpc(ch, 'TxRollback', {}, 'TxRollbackOk'), 406, 'PRECONDITION_FAILED - channel is not transactional');
  const confirming = await s.confirmChannel();
  await expectChannelError(confirming, () => rawRpc(confirming, 'TxSelect', {}, 'TxSelectOk'), 406, 'PRECONDITION_FAILED - cannot switch from confirm to tx mode');
  ch = await s.channel();
  await rawRpc(ch, 'TxSelect', {}, 'TxSelectOk');
  await expectChannelError(ch, () => rawRpc(ch, 'ConfirmSelect', { nowait: false }, 'ConfirmSelectOk'), 406, 'PRECONDITION_FAILED - cannot switch from tx to confirm mode');
});

test('403: reserved amq.* names and the default exchange', async (t) => {
  const s = await session(t);
  let ch = await s.channel();
  await expectChannelError(ch, () => ch.assertQueue('amq.mine'), 403, "ACCESS_REFUSED - queue name 'amq.mine' contains reserved prefix 'amq.*'");
  ch = await s.channel();
  await expectChannelError(ch, () => ch.assertExchange('amq.mine', 'direct'), 403, "ACCESS_REFUSED - exchange name 'amq.mine' contains reserved prefix 'amq.*'");
  ch = await s.channel();
  await ch.assertExchange('amq.direct', 'direct', { durable: true }); // an equivalent redeclare is fine
  await expectChannelError(ch, () => ch.deleteExchange('amq.direct'), 403, "ACCESS_REFUSED - deletion of system exchange 'amq.direct' in vhost '/' not allowed");
  ch = await s.channel();
  await ch.assertQueue('q');
  await expectChannelError(ch, () => ch.bindQueue('q', '', 'q'), 403, 'ACCESS_REFUSED - operation not permitted on the default exchange');
});

test('403: a user without permissions for the resource', async (t) => {
  const s = await session(t);
  s.broker.users.addUser('limited', 'secret');
  s.broker.users.setPermissions('limited', '/', { configure: '^own\\.', write: '^own\\.', read: '^own\\.' });
  const conn = await s.connect(s.broker.url.replace('guest:guest', 'limited:secret'));
  const open = async () => {
    const ch = await conn.createChannel();
    ch.on('error', () => undefined);
    return ch;
  };
  let ch = await open();
  await ch.assertQueue('own.q');
  await ch.assertExchange('own.x', 'fanout');
  await ch.bindQueue('own.q', 'own.x', '');
  ch.publish('own.x', '', Buffer.from('allowed'));
  await ch.checkQueue('own.q');
  assert.ok(await ch.get('own.q'));

  const refused = (perm: string, kind: string, name: string) =>
    `ACCESS_REFUSED - ${perm} access to ${kind} '${name}' in vhost '/' refused for user 'limited'`;
  await expectChannelError(ch, () => ch.assertQueue('other'), 403, refused('configure', 'queue', 'other'));
  ch = await open();
  await expectChannelError(ch, () => ch.assertExchange('other', 'direct'), 403, refused('configure', 'exchange', 'other'));
  ch = await open();
  await expectChannelError(ch, () => ch.sendToQueue('own.q', Buffer.from('x')), 403, refused('write', 'exchange', 'amq.default'));
  ch = await open();
  await expectChannelError(ch, () => ch.bindQueue('own.q', 'amq.direct', 'k'), 403, refused('read', 'exchange', 'amq.direct'));

  const admin = await s.channel();
  await admin.assertQueue('theirs');
  ch = await open();
  await expectChannelError(ch, () => ch.get('theirs'), 403, refused('read', 'queue', 'theirs'));
  ch = await open();
  await expectChannelError(ch, () => ch.consume('theirs', () => undefined), 403, refused('read', 'queue', 'theirs'));
  ch = await open();
  await expectChannelError(ch, () => ch.purgeQueue('theirs'), 403, refused('read', 'queue', 'theirs'));
  ch = await open();
  await expectChannelError(ch, () => ch.deleteQueue('theirs'), 403, refused('configure', 'queue', 'theirs'));
  ch = await open();
  // Server-named queues are checked under the name they get (and are not left behind).
  await expectChannelError(
    ch,
    () => ch.assertQueue('', { exclusive: true }),
    403,
    /"ACCESS_REFUSED - configure access to queue 'amq\.gen-[\w-]{22}' in vhost '\/' refused for user 'limited'"/,
  );
  assert.deepEqual(
    [...s.broker.broker.getVhost('/')!.queues.keys()].filter((q) => q.startsWith('amq.gen-')),
    [],
  );
});

test('530: reusing a consumer tag on the channel closes the connection', async (t) => {
  const s = await session(t);
  const conn = await s.connect();
  const ch = await conn.createChannel();
  ch.on('error', () => undefined);
  await ch.assertQueue('q');
  await ch.consume('q', () => undefined, { consumerTag: 'dup' });
  await expectConnectionError(conn, () => ch.consume('q', () => undefined, { consumerTag: 'dup' }), 530, "NOT_ALLOWED - attempt to reuse consumer tag 'dup'");
});

test('540: prefetch-size, recover requeue=false', async (t) => {
  const s = await session(t);
  let conn = await s.connect();
  let ch = await conn.createChannel();
  ch.on('error', () => undefined);
  await expectConnectionError(
    conn,
    () => rawRpc(ch, 'BasicQos', { prefetchSize: 10, prefetchCount: 0, global: false }, 'BasicQosOk'),
    540,
    'NOT_IMPLEMENTED - prefetch_size!=0 (10)',
  );
  conn = await s.connect();
  ch = await conn.createChannel();
  ch.on('error', () => undefined);
  await expectConnectionError(conn, () => rawRpc(ch, 'BasicRecover', { requeue: false }, 'BasicRecoverOk'), 540, 'NOT_IMPLEMENTED - requeue=false');
});

/** A raw client on channel 1, for frames amqplib will not send. */
async function rawChannel(t: import('node:test').TestContext, port: number): Promise<RawAmqpClient> {
  const client = await RawAmqpClient.connect(port);
  t.after(() => client.destroy());
  await client.handshake();
  await client.openChannel(1);
  return client;
}

test('540: basic.publish with immediate=true', async (t) => {
  const s = await session(t);
  const client = await rawChannel(t, s.broker.port);
  client.sendContent(1, { id: MethodId.BasicPublish, args: { reserved1: 0, exchange: '', routingKey: 'q', mandatory: false, immediate: true } }, Buffer.from('x'), 4096);
  const { channel, args } = await client.expectMethod(MethodId.ConnectionClose);
  assert.equal(channel, 0);
  assert.equal(args.replyCode, 540);
  assert.equal(args.replyText, 'NOT_IMPLEMENTED - immediate=true');
});

test('505: a method frame where a content header was due', async (t) => {
  const s = await session(t);
  const client = await rawChannel(t, s.broker.port);
  client.sendMethod(1, { id: MethodId.BasicPublish, args: { reserved1: 0, exchange: '', routingKey: 'q', mandatory: false, immediate: false } });
  client.sendMethod(1, { id: MethodId.BasicQos, args: { prefetchSize: 0, prefetchCount: 1, global: false } });
  const { args } = await client.expectMethod(MethodId.ConnectionClose);
  assert.equal(args.replyCode, 505);
  assert.equal(args.replyText, 'UNEXPECTED_FRAME - expected content header for class 60, got non content header frame instead');
});

test('505: a content body with no basic.publish before it', async (t) => {
  const s = await session(t);
  const client = await rawChannel(t, s.broker.port);
  // A body frame: type 3, channel 1, size 1, payload, frame-end.
  client.write(Buffer.from([3, 0, 1, 0, 0, 0, 1, 0x41, 0xce]));
  const { args } = await client.expectMethod(MethodId.ConnectionClose);
  assert.equal(args.replyCode, 505);
  assert.equal(args.replyText, 'UNEXPECTED_FRAME - expected method frame, got non method frame instead');
});

test('a client without consumer_cancel_notify gets no basic.cancel when the queue goes', async (t) => {
  const s = await session(t);
  const client = await RawAmqpClient.connect(s.broker.port);
  t.after(() => client.destroy());
  await client.handshake({ capabilities: {} });
  await client.openChannel(1);
  const declare = { reserved1: 0, passive: false, durable: false, exclusive: false, autoDelete: false, noWait: false, arguments: {} };
  client.sendMethod(1, { id: MethodId.QueueDeclare, args: { ...declare, queue: 'q' } });
  await client.expectMethod(MethodId.QueueDeclareOk);
  client.sendMethod(1, {
    id: MethodId.BasicConsume,
    args: { reserved1: 0, queue: 'q', consumerTag: 'c1', noLocal: false, noAck: true, exclusive: false, noWait: false, arguments: {} },
  });
  await client.expectMethod(MethodId.BasicConsumeOk);
  client.sendMethod(1, { id: MethodId.QueueDelete, args: { reserved1: 0, queue: 'q', ifUnused: false, ifEmpty: false, noWait: false } });
  // Straight to delete-ok: a basic.cancel in between would fail this expectation.
  await client.expectMethod(MethodId.QueueDeleteOk);
});
