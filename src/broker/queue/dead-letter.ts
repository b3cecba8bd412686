/**
 * Dead-lettering (x-dead-letter-exchange): the message a queue republishes, with RabbitMQ's x-death
 * bookkeeping, and RabbitMQ's cycle rule. https://www.rabbitmq.com/docs/dlx
 */
import { fieldNumber, isFieldTable, TypedValue, type BasicProperties, type FieldTable, type FieldValue, Message } from '../message.js';

export type DeathReason = 'rejected' | 'expired' | 'maxlen' | 'delivery_limit';

/** Where a queue's dead letters go. */
export interface DeadLetterTarget {
  readonly exchange: string;
  /** Replaces the message's routing key; undefined keeps it. */
  readonly routingKey: string | undefined;
}

/**
 * The message as it is republished: to the DLX with the DLX routing key (or its own), `expiration`
 * removed (kept as `original-expiration` in the x-death entry), and the x-death header updated: an
 * existing entry for the same queue and reason has its count incremented and moves to the front;
 * otherwise a new entry with count 1 goes in front. x-first-death-* are set on the first death only;
 * x-last-death-* (RabbitMQ 3.13+) on every one.
 */
export function deadLetteredMessage(
  message: Message,
  reason: DeathReason,
  queue: string,
  target: DeadLetterTarget,
  now: number,
): Message {
  const properties = message.properties;
  const headers: FieldTable = { ...properties.headers };
  const previous = deathsOf(headers);
  const index = previous.findIndex((death) => death['queue'] === queue && death['reason'] === reason);
  let death: FieldTable;
  const others = previous.slice();
  if (index >= 0) {
    const [found] = others.splice(index, 1);
    death = { ...found, count: new TypedValue('l', (fieldNumber(found!['count']) ?? 1) + 1) };
  } else {
    death = newDeath(message, reason, queue, now);
  }
  headers['x-death'] = [death, ...others];
  if (previous.length === 0) {
    headers['x-first-death-exchange'] = message.exchange;
    headers['x-first-death-queue'] = queue;
    headers['x-first-death-reason'] = reason;
  }
  headers['x-last-death-exchange'] = message.exchange;
  headers['x-last-death-queue'] = queue;
  headers['x-last-death-reason'] = reason;
  const next: BasicProperties = { ...properties, headers };
  delete next.expiration;
  // Republished now (as RabbitMQ does): a DLQ's message TTL counts from here, also across a restart.
  return new Message(target.exchange, target.routingKey ?? message.routingKey, next, message.body, undefined, now);
}

/** Keys in sorted order, as RabbitMQ sorts the table. */
function newDeath(message: Message, reason: DeathReason, queue: string, now: number): FieldTable {
  const death: FieldTable = {
    count: new TypedValue('l', 1),
    exchange: message.exchange,
  };
  const expiration = message.properties.expiration;
  if (expiration !== undefined) death['original-expiration'] = expiration;
  death['queue'] = queue;
  death['reason'] = reason;
  death['routing-keys'] = routingKeysOf(message);
  death['time'] = new TypedValue('T', Math.floor(now / 1000));
  return death;
}

/** The routing key plus any CC header keys (sender-selected distribution); BCC never shows. */
function routingKeysOf(message: Message): FieldValue[] {
  const keys: FieldValue[] = [message.routingKey];
  const cc = message.properties.headers?.['CC'];
  if (Array.isArray(cc)) for (const key of cc) if (typeof key === 'string') keys.push(key);
  return keys;
}

/** The x-death entries of a header table (tables only; anything else is ignored). */
function deathsOf(headers: FieldTable | undefined): FieldTable[] {
  const deaths = headers?.['x-death'];
  if (!Array.isArray(deaths)) return [];
  return deaths.filter(isFieldTable);
}


/**
 * RabbitMQ's cycle rule (rabbit_dead_letter:is_cycle): dead-lettering `message` into `queue` would loop
 * when the queue already appears in its x-death history and no death from the newest one back to (and
 * including) that appearance was a rejection. Rejections are client decisions, so those cycles are
 * allowed. Applies to the already updated message, and only for automatic reasons.
 */
export function isDeadLetterCycle(message: Message, queue: string): boolean {
  const deaths = deathsOf(message.properties.headers);
  for (const death of deaths) {
    if (death['reason'] === 'rejected') return false;
    if (death['queue'] === queue) return true;
  }
  return false;
}
