import assert from 'node:assert/strict';
import { test } from 'node:test';
import { REPLY_TO_PREFIX, REPLY_TO_QUEUE } from '../../../src/broker/names.js';
import { FakeConsumer, message, owner, startedVhost } from './fakes.js';
import { amqpThrows } from '../../helpers/amqp-errors.js';

test('direct reply-to: a registered consumer gets messages published to its address', async () => {
  const { broker, vhost } = await startedVhost();
  try {
    const requester = new FakeConsumer('amq.ctag-1', { noAck: true });
    const address = vhost.registerReplyTo(requester);
    assert.ok(address.startsWith(REPLY_TO_PREFIX));
    assert.equal(vhost.registerReplyTo(requester), address, 'same consumer, same address');
    const other = vhost.registerReplyTo(new FakeConsumer('amq.ctag-2', { noAck: true }));
    assert.notEqual(other, address);

    const outcome = vhost.publish(message('', address, 'answer', { correlationId: '42' }));
    assert.equal(outcome.routed, 1);
    assert.equal(requester.received.length, 1);
    const { entry, queue } = requester.received[0]!;
    assert.equal(queue, vhost.replyToQueue);
    assert.ok(queue.isDirectReplyTo, 'the channel can tell a reply from a queue delivery');
    assert.equal(queue.name, REPLY_TO_QUEUE);
    assert.equal(entry.message.properties.correlationId, '42');
    assert.equal(entry.deliveryCount, 1);
    assert.equal(vhost.queues.has(REPLY_TO_QUEUE), false, 'the pseudo queue is not a real queue');
    queue.ack(entry); // harmless
    assert.equal(vhost.checkQueue(address, owner()), vhost.replyToQueue, 'a live address passes a passive declare');
    assert.equal(vhost.checkQueue(REPLY_TO_QUEUE, owner()), vhost.replyToQueue);
  } finally {
    await broker.stop();
  }
});

test('direct reply-to: unknown or unregistered addresses are unroutable', async () => {
  const { broker, vhost } = await startedVhost();
  try {
    const requester = new FakeConsumer('c', { noAck: true });
    const address = vhost.registerReplyTo(requester);
    vhost.unregisterReplyTo(requester);
    assert.equal(vhost.publish(message('', address)).routed, 0);
    assert.equal(vhost.publish(message('', REPLY_TO_PREFIX + 'forged')).routed, 0);
    assert.equal(requester.received.length, 0);
    amqpThrows(() => vhost.checkQueue(address, owner()), { replyCode: 404 });
    // Only the default exchange delivers to reply addresses.
    const again = vhost.registerReplyTo(requester);
    assert.equal(vhost.publish(message('amq.direct', again)).routed, 0);
  } finally {
    await broker.stop();
  }
});

test('direct reply-to: an acking consumer is refused', async () => {
  const { broker, vhost } = await startedVhost();
  try {
    amqpThrows(() => vhost.registerReplyTo(new FakeConsumer('c', { noAck: false })), {
      replyCode: 406,
      replyText: 'PRECONDITION_FAILED - reply consumer cannot acknowledge',
    });
  } finally {
    await broker.stop();
  }
});
