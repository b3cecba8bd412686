import { createHash, randomBytes } from 'node:crypto';
import type { FieldTable } from '../broker/message.js';
import type { QueueView } from '../broker/queue-view.js';
import type { StompConnection } from './connection.js';
import type { Destination } from './destinations.js';
import { StompRequestError } from './errors.js';

/**
 * What a destination means for the core (RabbitMQ's STOMP plugin, "Destinations" and "Queue Properties"):
 * which exchange and key a SEND publishes with, which queue a SUBSCRIBE consumes from (declaring and
 * binding it as the plugin does), and the queue arguments a frame's headers ask for.
 */

/** x-arguments RabbitMQ's plugin takes from SEND/SUBSCRIBE headers when it declares a queue. */
const NUMERIC_ARGUMENTS = ['x-message-ttl', 'x-expires', 'x-max-length', 'x-max-length-bytes', 'x-max-priority', 'x-delivery-limit'];
const STRING_ARGUMENTS = ['x-dead-letter-exchange', 'x-dead-letter-routing-key', 'x-overflow', 'x-queue-type', 'x-queue-mode', 'x-queue-master-locator'];

export function queueArguments(headers: ReadonlyMap<string, string>): FieldTable {
  const args: FieldTable = {};
  for (const name of NUMERIC_ARGUMENTS) {
    const value = headers.get(name);
    if (value === undefined) continue;
    if (!/^-?[0-9]{1,15}$/.test(value)) throw new StompRequestError('Invalid header', `header '${name}' must be an integer, not '${value}'`);
    args[name] = Number(value);
  }
  for (const name of STRING_ARGUMENTS) {
    const value = headers.get(name);
    if (value !== undefined) args[name] = value;
  }
  const sac = headers.get('x-single-active-consumer');
  if (sac !== undefined) args['x-single-active-consumer'] = sac === 'true';
  return args;
}

function flag(headers: ReadonlyMap<string, string>, name: string, fallback: boolean): boolean {
  const value = headers.get(name);
  return value === undefined ? fallback : value === 'true';
}

/** Declares `/queue/<name>` if it does not exist yet (durable, not auto-delete, by the plugin's defaults). */
export function ensureQueue(c: StompConnection, name: string, headers: ReadonlyMap<string, string>): QueueView {
  const session = c.requireSession();
  const existing = session.vhost.getQueue(name);
  if (existing !== undefined) {
    existing.checkAccess(c);
    return existing;
  }
  session.access.declareQueue(name);
  const declared = session.vhost.declareQueue(
    {
      name,
      durable: flag(headers, 'durable', true),
      exclusive: flag(headers, 'exclusive', false),
      autoDelete: flag(headers, 'auto-delete', false),
      arguments: queueArguments(headers),
    },
    c,
  );
  return declared.queue;
}

/** Where a SEND goes: exchange and routing key, declaring a /queue/ destination first. */
export function sendTarget(c: StompConnection, d: Destination, headers: ReadonlyMap<string, string>): { exchange: string; routingKey: string } {
  switch (d.kind) {
    case 'queue':
      ensureQueue(c, d.queue, headers);
      return { exchange: '', routingKey: d.queue };
    case 'amq-queue':
    case 'reply-queue':
      return { exchange: '', routingKey: d.queue };
    case 'topic':
      return { exchange: 'amq.topic', routingKey: d.key };
    case 'exchange':
      return { exchange: d.exchange, routingKey: d.key };
    case 'temp-queue':
      throw new StompRequestError('Invalid destination', '/temp-queue/ destinations may only be used in a reply-to header');
  }
}

/** Queue names for subscriptions to topics and exchanges (RabbitMQ: "stomp-subscription-" + a hash). */
function subscriptionQueueName(c: StompConnection, headers: ReadonlyMap<string, string>, durable: boolean, id: string): string {
  const requested = headers.get('x-queue-name');
  if (requested !== undefined && requested !== '') return requested;
  if (!durable) return `stomp-subscription-${randomBytes(16).toString('base64url')}`;
  // The same client-id (if given) and subscription id name the same durable queue on every reconnect.
  const clientId = c.session?.clientProperties['client-id'] ?? '';
  return `stomp-subscription-${createHash('md5').update(`${clientId}\0${id}`).digest('base64url')}`;
}

export interface SubscribeSource {
  readonly queue: QueueView;
  /** Made for this subscription only: deleted when it ends. */
  readonly ownQueue: boolean;
}

/** The queue a SUBSCRIBE consumes from, declared and bound as its destination says. */
export function subscribeSource(c: StompConnection, d: Destination, headers: ReadonlyMap<string, string>, id: string): SubscribeSource {
  const session = c.requireSession();
  switch (d.kind) {
    case 'queue':
      // Read is checked before anything is declared, so a refused SUBSCRIBE leaves nothing behind.
      session.access.readQueue(d.queue);
      return { queue: ensureQueue(c, d.queue, headers), ownQueue: false };
    case 'amq-queue':
    case 'reply-queue':
      session.access.readQueue(d.queue);
      return { queue: session.vhost.checkQueue(d.queue, c), ownQueue: false };
    case 'topic':
    case 'exchange': {
      const exchange = d.kind === 'topic' ? 'amq.topic' : d.exchange;
      session.vhost.checkExchange(exchange);
      // Durable topic subscriptions (RabbitMQ: durable:true with auto-delete:false and an id) outlive the session.
      const durable = flag(headers, 'durable', false) || flag(headers, 'persistent', false);
      if (durable && headers.get('id') === undefined) {
        throw new StompRequestError('Missing header', 'a durable subscription needs an id header');
      }
      const name = subscriptionQueueName(c, headers, durable, id);
      session.access.readQueue(name);
      session.access.bind('queue', name, exchange);
      session.access.readTopicIfTopic(() => session.vhost.getExchange(exchange)?.type, exchange, d.key);
      let queue: QueueView | undefined = session.vhost.getQueue(name);
      if (queue === undefined) {
        session.access.declareQueue(name);
        queue = session.vhost.declareQueue(
          { name, durable, exclusive: !durable, autoDelete: durable ? flag(headers, 'auto-delete', false) : true, arguments: queueArguments(headers) },
          c,
        ).queue;
      }
      session.vhost.bindQueue(name, exchange, d.key, {}, c);
      return { queue, ownQueue: !durable };
    }
    case 'temp-queue':
      throw new StompRequestError('Invalid destination', '/temp-queue/ destinations may only be used in a reply-to header');
  }
}
