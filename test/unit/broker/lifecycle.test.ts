import assert from 'node:assert/strict';
import { test } from 'node:test';
import { declareQueue, FakeConsumer, message, owner, startedVhost } from './fakes.js';
import { amqpThrows } from '../../helpers/amqp-errors.js';

const LOCKED =
  "RESOURCE_LOCKED - cannot obtain exclusive access to locked queue 'q' in vhost '/'. It could be originally " +
  'declared on another connection or the exclusive property value does not match that of the original declaration.';

test('exclusive queue: only its owner may use it; others get 405 with RabbitMQ text', async () => {
  const { broker, vhost } = await startedVhost();
  const alice = owner('alice');
  const bob = owner('bob');
  try {
    declareQueue(vhost, 'q', alice, { exclusive: true });
    const locked = { replyCode: 405, replyText: LOCKED };
    amqpThrows(() => declareQueue(vhost, 'q', bob, { exclusive: true }), locked);
    amqpThrows(() => declareQueue(vhost, 'q', alice, { exclusive: false }), locked, 'exclusive flag mismatch');
    amqpThrows(() => vhost.checkQueue('q', bob), locked);
    amqpThrows(() => vhost.bindQueue('q', 'amq.direct', 'k', {}, bob), locked);
    amqpThrows(() => vhost.purgeQueue('q', bob), locked);
    amqpThrows(() => vhost.deleteQueue('q', { ifUnused: false, ifEmpty: false }, bob), locked);
    amqpThrows(() => vhost.getQueue('q')!.addConsumer(new FakeConsumer('c', { owner: bob })), locked);
    // Publishing to someone else's exclusive queue is allowed.
    assert.equal(vhost.publish(message('', 'q')).routed, 1);
    assert.equal(vhost.checkQueue('q', alice).readyCount(), 1);
    // A non-exclusive queue redeclared as exclusive is refused too.
    declareQueue(vhost, 'shared', alice);
    amqpThrows(() => declareQueue(vhost, 'shared', alice, { exclusive: true }), { replyCode: 405 });
  } finally {
    await broker.stop();
  }
});

test('releaseOwner deletes the owner\'s exclusive queues and their bindings, nothing else', async () => {
  const { broker, vhost } = await startedVhost();
  const alice = owner('alice');
  try {
    const mine = declareQueue(vhost, 'mine', alice, { exclusive: true });
    declareQueue(vhost, 'shared', alice);
    vhost.bindQueue('mine', 'amq.fanout', '', {}, alice);
    const consumer = new FakeConsumer('c', { owner: alice });
    mine.addConsumer(consumer);
    vhost.releaseOwner(alice);
    assert.equal(vhost.getQueue('mine'), undefined);
    assert.ok(vhost.getQueue('shared'));
    assert.ok(mine.deleted);
    assert.deepEqual(consumer.cancelledBy, [mine]);
    assert.equal(vhost.getExchange('amq.fanout')!.bindings.size, 0);
    assert.equal(vhost.publish(message('amq.fanout', '')).routed, 0);
    vhost.releaseOwner(alice); // nothing left: harmless
  } finally {
    await broker.stop();
  }
});

test('auto-delete queue goes with its last consumer, not before it ever had one', async () => {
  const { broker, vhost } = await startedVhost();
  try {
    const queue = declareQueue(vhost, 'q', owner(), { autoDelete: true });
    const a = new FakeConsumer('a');
    const b = new FakeConsumer('b');
    assert.ok(vhost.getQueue('q'), 'never consumed: stays');
    queue.addConsumer(a);
    queue.addConsumer(b);
    queue.removeConsumer(a);
    assert.ok(vhost.getQueue('q'), 'one consumer left');
    queue.removeConsumer(b);
    assert.equal(vhost.getQueue('q'), undefined);
    assert.ok(queue.deleted);
    assert.deepEqual(b.cancelledBy, [], 'a consumer that left is not cancelled');
  } finally {
    await broker.stop();
  }
});

test('delete if-unused / if-empty with exact texts; missing queue deletes fine', async () => {
  const { broker, vhost } = await startedVhost();
  const me = owner();
  try {
    const queue = declareQueue(vhost, 'q', me);
    vhost.publish(message('', 'q', '1'));
    vhost.publish(message('', 'q', '2'));
    const consumer = new FakeConsumer('c', { prefetch: 1 });
    queue.addConsumer(consumer);
    amqpThrows(() => vhost.deleteQueue('q', { ifUnused: true, ifEmpty: false }, me), {
      replyCode: 406,
      replyText: "PRECONDITION_FAILED - queue 'q' in vhost '/' in use",
    });
    amqpThrows(() => vhost.deleteQueue('q', { ifUnused: false, ifEmpty: true }, me), {
      replyCode: 406,
      replyText: "PRECONDITION_FAILED - queue 'q' in vhost '/' is not empty",
    });
    assert.equal(vhost.deleteQueue('q', { ifUnused: false, ifEmpty: false }, me), 1, 'one ready message dropped');
    assert.deepEqual(consumer.cancelledBy, [queue]);
    // Acks and requeues for entries of the deleted queue are harmless no-ops.
    consumer.ack();
    assert.equal(queue.unackedCount(), 0);
    assert.equal(vhost.deleteQueue('q', { ifUnused: true, ifEmpty: true }, me), 0);
    assert.equal(vhost.publish(message('', 'q')).routed, 0);
  } finally {
    await broker.stop();
  }
});

test('purge drops ready messages only; unacked ones stay and can still be acked', async () => {
  const { broker, vhost } = await startedVhost();
  const me = owner();
  try {
    const queue = declareQueue(vhost, 'q', me);
    for (let i = 0; i < 5; i++) vhost.publish(message('', 'q', String(i)));
    const held = queue.get(false)!;
    assert.equal(vhost.purgeQueue('q', me), 4);
    assert.equal(queue.readyCount(), 0);
    assert.equal(queue.unackedCount(), 1);
    queue.reject(held, true);
    assert.equal(queue.readyCount(), 1, 'requeued after purge');
    assert.equal(queue.get(true)!.message.body.toString(), '0');
    amqpThrows(() => vhost.purgeQueue('missing', me), { replyCode: 404 });
  } finally {
    await broker.stop();
  }
});
