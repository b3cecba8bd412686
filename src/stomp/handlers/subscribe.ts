import type { StompFrame } from '../codec/frame.js';
import type { StompConnection } from '../connection.js';
import { parseDestination } from '../destinations.js';
import { subscribeSource } from '../endpoints.js';
import { missingHeader, StompRequestError } from '../errors.js';
import { StompSubscription, type AckMode } from '../subscription.js';
import type { HandlerTable } from './types.js';

const ACK_MODES: ReadonlySet<string> = new Set(['auto', 'client', 'client-individual']);

function ackMode(c: StompConnection, value: string | undefined): AckMode {
  if (value === undefined) return 'auto';
  // client-individual is new in 1.1.
  if (!ACK_MODES.has(value) || (value === 'client-individual' && c.requireSession().version === '1.0')) {
    throw new StompRequestError('Invalid ack mode', `ack:${value} is not one of auto, client, client-individual`);
  }
  return value as AckMode;
}

function prefetchOf(value: string | undefined): number {
  if (value === undefined) return 0;
  if (!/^[0-9]{1,9}$/.test(value)) throw new StompRequestError('Invalid prefetch-count', `prefetch-count must be a non-negative integer, not '${value}'`);
  return Number(value);
}

/** SUBSCRIBE (1.2 "SUBSCRIBE"): id is required from 1.1 on; in 1.0 the destination stands in for it. */
function subscribe(c: StompConnection, frame: StompFrame): void {
  const session = c.requireSession();
  const destination = frame.headers.get('destination');
  if (destination === undefined) throw missingHeader('SUBSCRIBE', 'destination');
  let id = frame.headers.get('id');
  if (id === undefined) {
    if (session.version !== '1.0') throw missingHeader('SUBSCRIBE', 'id');
    id = destination;
  }
  if (c.subscriptions.has(id)) throw new StompRequestError('Duplicated subscription identifier', `A subscription identified by '${id}' already exists.`);
  const ack = ackMode(c, frame.headers.get('ack'));
  const prefetch = prefetchOf(frame.headers.get('prefetch-count'));
  const source = subscribeSource(c, parseDestination(destination), frame.headers, id);
  const subscription = new StompSubscription(c, id, destination, source.queue, ack, prefetch, source.ownQueue);
  // Registered inactive: the receipt goes out before the first MESSAGE.
  source.queue.addConsumer(subscription);
  c.subscriptions.set(id, subscription);
  c.receipt(frame);
  subscription.active = true;
  source.queue.resumeDispatch();
}

/** UNSUBSCRIBE; with `durable:true` a durable subscription's queue is deleted too (RabbitMQ's rule). */
function unsubscribe(c: StompConnection, frame: StompFrame): void {
  const session = c.requireSession();
  const id = frame.headers.get('id') ?? (session.version === '1.0' ? frame.headers.get('destination') : undefined);
  if (id === undefined) throw missingHeader('UNSUBSCRIBE', 'id');
  const subscription = c.subscriptions.get(id);
  if (subscription === undefined) throw new StompRequestError('Bad subscription', `Subscription to '${id}' not found.`);
  c.endSubscription(subscription);
  if (frame.headers.get('durable') === 'true' || frame.headers.get('persistent') === 'true') {
    session.access.deleteQueue(subscription.queue.name);
    session.vhost.deleteQueue(subscription.queue.name, { ifUnused: false, ifEmpty: false }, c);
  }
  c.receipt(frame);
}

export const subscribeHandlers: HandlerTable = { SUBSCRIBE: subscribe, UNSUBSCRIBE: unsubscribe };
