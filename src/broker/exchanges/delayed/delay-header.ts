/**
 * The `x-delay` message header as the delayed-message plugin reads it (rabbit_delayed_message_utils):
 * integers as they are, strings parsed as integers, floats and decimals truncated. A delay that is
 * missing, unparsable, zero, negative or above 2^32-1 ms (Erlang's timer limit) means "route now".
 */
import { fieldNumber, Message, TypedValue, type FieldValue } from '../../message.js';

export const DELAY_HEADER = 'x-delay';
/** The plugin routes messages with a larger delay at once (it cannot arm an Erlang timer that long). */
export const MAX_DELAY_MS = 4_294_967_295;

function delayValue(value: FieldValue | undefined): number {
  if (typeof value === 'number') return Math.trunc(value);
  if (typeof value === 'string') return /^[+-]?[0-9]+$/.test(value) ? Number(value) : 0;
  if (typeof value === 'bigint' || value instanceof TypedValue) return Math.trunc(fieldNumber(value) ?? 0);
  return 0;
}

/** The delay in ms this message asks for, or 0 for "route now". */
export function requestedDelay(message: Message): number {
  const headers = message.properties.headers;
  if (headers === undefined) return 0;
  const delay = delayValue(headers[DELAY_HEADER]);
  return delay > 0 && delay <= MAX_DELAY_MS ? delay : 0;
}

/**
 * The message as it leaves the exchange once due: `x-delay` set to minus the delay, as the plugin does,
 * so a delayed exchange further along (e2e) does not delay it again and consumers can tell it was delayed.
 * It counts as published now (the plugin re-publishes it), so a queue's message TTL starts when it is due.
 */
export function releasedMessage(message: Message, delay: number, now: number): Message {
  const properties = message.properties;
  const headers = { ...properties.headers, [DELAY_HEADER]: -delay };
  return new Message(message.exchange, message.routingKey, { ...properties, headers }, message.body, undefined, now);
}
