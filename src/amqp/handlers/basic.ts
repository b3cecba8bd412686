import { preconditionFailed } from '../../broker/errors.js';
import { ConnectionError, ConnectionReplyCode } from '../errors.js';
import { fieldNumber, type FieldTable } from '../../broker/message.js';
import { REPLY_TO_QUEUE } from '../../broker/names.js';
import {
  MethodId,
  type BasicAck,
  type BasicCancel,
  type BasicConsume,
  type BasicGet,
  type BasicNack,
  type BasicPublish,
  type BasicQos,
  type BasicRecover,
  type BasicRecoverAsync,
  type BasicReject,
} from '../spec/generated.js';
import type { Channel } from '../channel.js';
import { Settlement } from '../channel/acks.js';
import { AmqpConsumer } from '../channel/consumer.js';
import type { QueueView } from '../../broker/queue-view.js';
import { generateConsumerTag } from '../channel/names.js';
import type { HandlerTable } from './types.js';

function qos(ch: Channel, a: BasicQos): void {
  if (a.prefetchSize !== 0) {
    throw new ConnectionError(ConnectionReplyCode.NotImplemented, `prefetch_size!=0 (${a.prefetchSize})`);
  }
  // RabbitMQ's reading of the flag: global=false limits each consumer created afterwards,
  // global=true limits all consumers of the channel together.
  if (a.global) ch.channelPrefetch = a.prefetchCount;
  else ch.consumerPrefetch = a.prefetchCount;
  ch.send({ id: MethodId.BasicQosOk, args: {} });
  if (a.global) ch.resumeAllConsumers();
}

/** The consumer tag to use: the client's, or a generated one; reusing one is a hard error in RabbitMQ. */
function consumerTagFor(ch: Channel, requested: string): string {
  if (requested === '') return generateConsumerTag();
  if (ch.consumers.has(requested)) {
    throw new ConnectionError(ConnectionReplyCode.NotAllowed, `attempt to reuse consumer tag '${requested}'`);
  }
  return requested;
}

function priorityOf(args: FieldTable): number {
  const value = fieldNumber(args['x-priority']);
  return value !== undefined && Number.isInteger(value) ? value : 0;
}

function consume(ch: Channel, a: BasicConsume): void {
  if (a.queue === REPLY_TO_QUEUE) return consumeReplies(ch, a);
  const tag = consumerTagFor(ch, a.consumerTag);
  const name = ch.resolveQueueName(a.queue);
  ch.access.readQueue(name);
  const queue: QueueView = ch.vhost.checkQueue(name, ch.host.owner);
  const consumer = new AmqpConsumer(
    ch,
    queue,
    tag,
    a.noAck,
    a.exclusive,
    priorityOf(a.arguments),
    a.arguments,
    ch.host.owner,
    ch.consumerPrefetch,
  );
  // Registered inactive so nothing is dispatched before consume-ok is on the wire.
  queue.addConsumer(consumer);
  ch.consumers.set(tag, consumer);
  if (!a.noWait) ch.send({ id: MethodId.BasicConsumeOk, args: { consumerTag: tag } });
  consumer.active = true;
  queue.resumeDispatch();
}

/** Direct reply-to: a no-ack pseudo-consumer that the vhost feeds with replies addressed to this channel. */
function consumeReplies(ch: Channel, a: BasicConsume): void {
  const tag = consumerTagFor(ch, a.consumerTag);
  if (ch.replyTo !== undefined) throw preconditionFailed('reply consumer already set');
  if (!a.noAck) throw preconditionFailed('reply consumer cannot acknowledge');
  const consumer = new AmqpConsumer(ch, undefined, tag, true, false, 0, a.arguments, ch.host.owner, 0);
  const address = ch.vhost.registerReplyTo(consumer);
  ch.replyTo = { consumer, address };
  ch.consumers.set(tag, consumer);
  if (!a.noWait) ch.send({ id: MethodId.BasicConsumeOk, args: { consumerTag: tag } });
  consumer.active = true;
}

function cancel(ch: Channel, a: BasicCancel): void {
  const consumer = ch.consumers.get(a.consumerTag);
  if (consumer !== undefined) {
    ch.consumers.delete(a.consumerTag);
    consumer.active = false;
    if (consumer.queue !== undefined) {
      consumer.queue.removeConsumer(consumer);
    } else if (ch.replyTo?.consumer === consumer) {
      ch.vhost.unregisterReplyTo(consumer);
      ch.replyTo = undefined;
    }
  }
  // An unknown tag is not an error (spec: the server may have cancelled it already).
  if (!a.noWait) ch.send({ id: MethodId.BasicCancelOk, args: { consumerTag: a.consumerTag } });
}

function publish(ch: Channel, a: BasicPublish): void {
  if (a.immediate) throw new ConnectionError(ConnectionReplyCode.NotImplemented, 'immediate=true');
  ch.access.publish(a.exchange);
  ch.access.publishTopicIfTopic(() => ch.vhost.getExchange(a.exchange)?.type, a.exchange, a.routingKey);
  ch.content.start(a.exchange, a.routingKey, a.mandatory);
}

function get(ch: Channel, a: BasicGet): void {
  const name = ch.resolveQueueName(a.queue);
  ch.access.readQueue(name);
  const queue: QueueView = ch.vhost.checkQueue(name, ch.host.owner);
  answerGet(ch, queue, a.noAck);
}

/**
 * get-ok or get-empty; or, when the head is a stored message still being read, later: meanwhile the
 * channel's next frames wait, so replies keep their order. Returns false when the answer is deferred.
 */
function answerGet(ch: Channel, queue: QueueView, noAck: boolean): boolean {
  const entry = queue.get(noAck);
  if (entry !== undefined) {
    ch.deliverGot(entry, queue, noAck);
    return true;
  }
  const loading = queue.whenHeadLoaded(noAck);
  if (loading === undefined) {
    ch.send({ id: MethodId.BasicGetEmpty, args: { reserved1: '' } });
    return true;
  }
  ch.holdFrames();
  void loading.then(() => {
    if (!ch.isClosed && answerGet(ch, queue, noAck)) ch.releaseHeldFrames();
  });
  return false;
}

/** In a transaction acks wait for tx.commit; the tag is checked now either way. */
function settle(ch: Channel, tag: number, multiple: boolean, how: Settlement): void {
  if (ch.tx !== undefined) ch.tx.operations.push({ kind: 'settle', how, deliveries: ch.acks.take(tag, multiple) });
  else ch.acks.settle(tag, multiple, how);
}

function ack(ch: Channel, a: BasicAck): void {
  settle(ch, a.deliveryTag, a.multiple, Settlement.Ack);
}

function reject(ch: Channel, a: BasicReject): void {
  settle(ch, a.deliveryTag, false, a.requeue ? Settlement.Requeue : Settlement.Drop);
}

function nack(ch: Channel, a: BasicNack): void {
  settle(ch, a.deliveryTag, a.multiple, a.requeue ? Settlement.Requeue : Settlement.Drop);
}

/** RabbitMQ implements only requeue=true: every unacked delivery goes back to its queue. */
function recoverAll(requeue: boolean): void {
  if (!requeue) throw new ConnectionError(ConnectionReplyCode.NotImplemented, 'requeue=false');
}

function recover(ch: Channel, a: BasicRecover): void {
  recoverAll(a.requeue);
  ch.send({ id: MethodId.BasicRecoverOk, args: {} });
  ch.acks.requeueAll();
}

function recoverAsync(ch: Channel, a: BasicRecoverAsync): void {
  recoverAll(a.requeue);
  ch.acks.requeueAll();
}

export const basicHandlers: HandlerTable = {
  [MethodId.BasicQos]: qos,
  [MethodId.BasicConsume]: consume,
  [MethodId.BasicCancel]: cancel,
  [MethodId.BasicPublish]: publish,
  [MethodId.BasicGet]: get,
  [MethodId.BasicAck]: ack,
  [MethodId.BasicReject]: reject,
  [MethodId.BasicNack]: nack,
  [MethodId.BasicRecover]: recover,
  [MethodId.BasicRecoverAsync]: recoverAsync,
};
