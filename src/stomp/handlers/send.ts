import { preconditionFailed } from '../../broker/errors.js';
import type { QueueView } from '../../broker/queue-view.js';
import type { StompFrame } from '../codec/frame.js';
import type { StompConnection } from '../connection.js';
import { parseDestination } from '../destinations.js';
import { sendTarget } from '../endpoints.js';
import { missingHeader, StompRequestError } from '../errors.js';
import { messageFromSend, propertiesFromHeaders } from '../message-mapping.js';
import { StompSubscription } from '../subscription.js';
import type { HandlerTable } from './types.js';

/**
 * `reply-to:/temp-queue/<name>` (RabbitMQ "Temp Queue Destinations"): the session gets a private,
 * exclusive, auto-delete queue for that name, subscribed to under the id `/temp-queue/<name>`; the
 * message carries `/reply-queue/<queue>` instead, where responders SEND their replies.
 */
function rewriteReplyTo(c: StompConnection, replyTo: string): string {
  if (!replyTo.startsWith('/temp-queue/')) return replyTo;
  const d = parseDestination(replyTo);
  if (d.kind !== 'temp-queue') return replyTo;
  let queueName = c.tempQueues.get(d.name);
  if (queueName === undefined) {
    const session = c.requireSession();
    const queue: QueueView = session.vhost.declareQueue({ name: '', durable: false, exclusive: true, autoDelete: true, arguments: {} }, c).queue;
    queueName = queue.name;
    c.tempQueues.set(d.name, queueName);
    const subscription = new StompSubscription(c, replyTo, replyTo, queue, 'auto', 0, true);
    queue.addConsumer(subscription);
    c.subscriptions.set(replyTo, subscription);
    subscription.active = true;
  }
  return `/reply-queue/${queueName}`;
}

function send(c: StompConnection, frame: StompFrame): void {
  const session = c.requireSession();
  const destinationHeader = frame.headers.get('destination');
  if (destinationHeader === undefined) throw missingHeader('SEND', 'destination');
  const { exchange, routingKey } = sendTarget(c, parseDestination(destinationHeader), frame.headers);
  session.access.publish(exchange);
  session.access.publishTopicIfTopic(() => session.vhost.getExchange(exchange)?.type, exchange, routingKey);
  const properties = propertiesFromHeaders(frame.headers);
  if (properties.userId !== undefined && properties.userId !== session.user.name) {
    throw preconditionFailed(`user_id property set to '${properties.userId}' but authenticated user was '${session.user.name}'`);
  }
  if (properties.replyTo !== undefined) properties.replyTo = rewriteReplyTo(c, properties.replyTo);
  const message = messageFromSend(exchange, routingKey, properties, frame.body);
  const txId = frame.headers.get('transaction');
  if (txId !== undefined) {
    const work = c.transactions.get(txId);
    if (work === undefined) throw new StompRequestError('Bad transaction', `Invalid transaction identifier: ${txId}`);
    work.push(() => publish(c, message));
    c.receipt(frame);
    return;
  }
  publish(c, message);
  const receipt = frame.headers.get('receipt');
  if (receipt !== undefined) c.receipts.after(receipt, (done) => c.barriers.waitAll(done));
}

export function publish(c: StompConnection, message: ReturnType<typeof messageFromSend>): void {
  if (c.flow.blocking) c.flow.block();
  const reached: QueueView[] = [];
  c.vhost.publish(message, reached);
  if (reached.length > 0) {
    c.publishedTo(reached);
  }
}

export const sendHandlers: HandlerTable = { SEND: send };
