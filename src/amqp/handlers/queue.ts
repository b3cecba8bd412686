import { MethodId, type QueueBind, type QueueDeclare, type QueueDelete, type QueuePurge, type QueueUnbind } from '../spec/generated.js';
import type { Channel } from '../channel.js';
import { REPLY_TO_QUEUE } from '../../broker/names.js';
import type { QueueView } from '../../broker/queue-view.js';
import { assertNotDefaultExchange, assertNotReserved } from './names.js';
import type { HandlerTable } from './types.js';

function declare(ch: Channel, a: QueueDeclare): void {
  // RabbitMQ treats every declare of the direct reply-to pseudo queue (or of a reply address) as passive;
  // kombu and Celery declare 'amq.rabbitmq.reply-to' before consuming from it.
  if (a.passive || a.queue.startsWith(REPLY_TO_QUEUE)) return declarePassive(ch, a);
  const requested = a.queue;
  if (requested !== '') {
    // Checked before permissions, and for existing queues too (RabbitMQ refuses to redeclare amq.gen-*).
    assertNotReserved('queue', requested);
    ch.access.declareQueue(requested);
  }
  const declared = ch.vhost.declareQueue(
    { name: requested, durable: a.durable, exclusive: a.exclusive, autoDelete: a.autoDelete, arguments: a.arguments },
    ch.host.owner,
  );
  const name = declared.queue.name;
  if (requested === '') authorizeServerNamed(ch, name);
  ch.lastQueueName = name;
  if (!a.noWait) {
    ch.send({
      id: MethodId.QueueDeclareOk,
      args: { queue: name, messageCount: declared.messageCount, consumerCount: declared.consumerCount },
    });
  }
}

/** The name of a server-named queue is only known once it exists: refused means it goes again. */
function authorizeServerNamed(ch: Channel, name: string): void {
  try {
    ch.access.declareQueue(name);
  } catch (error) {
    ch.vhost.deleteQueue(name, { ifUnused: false, ifEmpty: false }, ch.host.owner);
    throw error;
  }
}

function declarePassive(ch: Channel, a: QueueDeclare): void {
  const name = ch.resolveQueueName(a.queue);
  const queue: QueueView = ch.vhost.checkQueue(name, ch.host.owner);
  ch.lastQueueName = name;
  if (!a.noWait) {
    ch.send({
      id: MethodId.QueueDeclareOk,
      args: { queue: name, messageCount: queue.readyCount(), consumerCount: consumerCountOf(ch, queue) },
    });
  }
}

/** A reply-to pseudo queue that exists has, by definition, its one consumer (RabbitMQ says 1 too). */
function consumerCountOf(ch: Channel, queue: QueueView): number {
  return queue === ch.vhost.replyToQueue ? 1 : queue.consumerCount();
}

/**
 * queue.bind/unbind: "" names the last declared queue and, with it, an empty routing key means the
 * queue name (spec, queue.bind). Write on the queue, read on the exchange.
 */
function resolveBinding(ch: Channel, a: QueueBind | QueueUnbind): { queue: string; routingKey: string } {
  const queue = ch.resolveQueueName(a.queue);
  const routingKey = a.queue === '' && a.routingKey === '' ? queue : a.routingKey;
  assertNotDefaultExchange(a.exchange);
  ch.access.bind('queue', queue, a.exchange);
  // Topic permissions: a binding key on a topic exchange needs read (RabbitMQ checks bind and unbind).
  ch.access.readTopicIfTopic(() => ch.vhost.getExchange(a.exchange)?.type, a.exchange, routingKey);
  return { queue, routingKey };
}

function bind(ch: Channel, a: QueueBind): void {
  const { queue, routingKey } = resolveBinding(ch, a);
  ch.vhost.bindQueue(queue, a.exchange, routingKey, a.arguments, ch.host.owner);
  if (!a.noWait) ch.send({ id: MethodId.QueueBindOk, args: {} });
}

function unbind(ch: Channel, a: QueueUnbind): void {
  const { queue, routingKey } = resolveBinding(ch, a);
  ch.vhost.unbindQueue(queue, a.exchange, routingKey, a.arguments, ch.host.owner);
  ch.send({ id: MethodId.QueueUnbindOk, args: {} });
}

function purge(ch: Channel, a: QueuePurge): void {
  const name = ch.resolveQueueName(a.queue);
  ch.access.readQueue(name);
  const messageCount = ch.vhost.purgeQueue(name, ch.host.owner);
  if (!a.noWait) ch.send({ id: MethodId.QueuePurgeOk, args: { messageCount } });
}

function remove(ch: Channel, a: QueueDelete): void {
  const name = ch.resolveQueueName(a.queue);
  ch.access.deleteQueue(name);
  // Idempotent in the core: a missing queue is deleted with 0 messages, as in RabbitMQ 3.x.
  const messageCount = ch.vhost.deleteQueue(name, { ifUnused: a.ifUnused, ifEmpty: a.ifEmpty }, ch.host.owner);
  if (!a.noWait) ch.send({ id: MethodId.QueueDeleteOk, args: { messageCount } });
}

export const queueHandlers: HandlerTable = {
  [MethodId.QueueDeclare]: declare,
  [MethodId.QueueBind]: bind,
  [MethodId.QueueUnbind]: unbind,
  [MethodId.QueuePurge]: purge,
  [MethodId.QueueDelete]: remove,
};
