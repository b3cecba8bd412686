import { Message } from '../message.js';

/** The header RabbitMQ quorum queues put on redeliveries: how many times the message came back. */
export const DELIVERY_COUNT_HEADER = 'x-delivery-count';

/**
 * x-delivery-limit: a message returned (rejected or nacked with requeue, or its channel closed) more
 * than the limit is dead-lettered with reason delivery_limit, or dropped without a DLX. Redeliveries
 * carry x-delivery-count (as quorum queues do), so the returned message gets new properties; only
 * queues with a delivery limit pay for that.
 */
export function withDeliveryCount(message: Message, returns: number): Message {
  const headers = { ...message.properties.headers, [DELIVERY_COUNT_HEADER]: returns };
  return new Message(
    message.exchange,
    message.routingKey,
    { ...message.properties, headers },
    message.body,
    undefined,
    message.publishedAt,
  );
}
