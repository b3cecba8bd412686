import { Message, TypedValue, fieldNumber, type BasicProperties, type FieldTable, type FieldValue } from '../broker/message.js';
import type { QueueEntry } from '../broker/front-door.js';

/**
 * STOMP headers <-> AMQP 0-9-1 properties, as RabbitMQ's STOMP plugin maps them ("Message Properties"):
 * the headers with a property of their own become it, every other custom header becomes an AMQP header
 * (a string) and comes back as a STOMP header on delivery, so AMQP and STOMP clients see the same message.
 */

/** Headers about the frame itself, never stored with the message. */
const FRAME_HEADERS = new Set(['destination', 'receipt', 'transaction', 'content-length', 'subscription', 'message-id', 'ack', 'redelivered']);

/** Header name -> how it sets a property. */
const PROPERTY_HEADERS: Record<string, (p: BasicProperties, v: string) => void> = {
  'content-type': (p, v) => void (p.contentType = v),
  'content-encoding': (p, v) => void (p.contentEncoding = v),
  persistent: (p, v) => void (p.deliveryMode = v === 'true' ? 2 : 1),
  priority: (p, v) => void (p.priority = integerOr(v, undefined)),
  'correlation-id': (p, v) => void (p.correlationId = v),
  'reply-to': (p, v) => void (p.replyTo = v),
  expiration: (p, v) => void (p.expiration = v),
  'amqp-message-id': (p, v) => void (p.messageId = v),
  timestamp: (p, v) => void (p.timestamp = integerOr(v, undefined)),
  type: (p, v) => void (p.type = v),
  'user-id': (p, v) => void (p.userId = v),
  'app-id': (p, v) => void (p.appId = v),
  'cluster-id': (p, v) => void (p.clusterId = v),
};

function integerOr<T>(value: string, fallback: T): number | T {
  return /^-?[0-9]{1,15}$/.test(value) ? Number(value) : fallback;
}

/** The AMQP properties of a SEND frame's headers. */
export function propertiesFromHeaders(headers: ReadonlyMap<string, string>): BasicProperties {
  const properties: BasicProperties = {};
  let custom: FieldTable | undefined;
  for (const [name, value] of headers) {
    if (FRAME_HEADERS.has(name)) continue;
    const set = PROPERTY_HEADERS[name];
    if (set !== undefined) set(properties, value);
    else (custom ??= {})[name] = value;
  }
  if (custom !== undefined) properties.headers = custom;
  return properties;
}

export function messageFromSend(exchange: string, routingKey: string, properties: BasicProperties, body: Buffer): Message {
  return new Message(exchange, routingKey, properties, body);
}

/** The headers of a MESSAGE frame for one delivery (before subscription, message-id and ack). */
export function headersForDelivery(entry: QueueEntry, destination: string): Array<[string, string]> {
  const message = entry.message;
  const p = message.properties;
  const out: Array<[string, string]> = [['destination', destination]];
  if (entry.redelivered) out.push(['redelivered', 'true']);
  if (p.contentType !== undefined) out.push(['content-type', p.contentType]);
  if (p.contentEncoding !== undefined) out.push(['content-encoding', p.contentEncoding]);
  if (p.deliveryMode !== undefined) out.push(['persistent', p.deliveryMode === 2 ? 'true' : 'false']);
  if (p.priority !== undefined) out.push(['priority', String(p.priority)]);
  if (p.correlationId !== undefined) out.push(['correlation-id', p.correlationId]);
  if (p.replyTo !== undefined) out.push(['reply-to', p.replyTo]);
  if (p.expiration !== undefined) out.push(['expiration', p.expiration]);
  if (p.messageId !== undefined) out.push(['amqp-message-id', p.messageId]);
  if (p.timestamp !== undefined) out.push(['timestamp', String(p.timestamp)]);
  if (p.type !== undefined) out.push(['type', p.type]);
  if (p.userId !== undefined) out.push(['user-id', p.userId]);
  if (p.appId !== undefined) out.push(['app-id', p.appId]);
  if (p.clusterId !== undefined) out.push(['cluster-id', p.clusterId]);
  if (p.headers !== undefined) {
    for (const [name, value] of Object.entries(p.headers)) {
      if (FRAME_HEADERS.has(name) || PROPERTY_HEADERS[name] !== undefined) continue;
      const text = headerText(value);
      if (text !== undefined) out.push([name, text]);
    }
  }
  return out;
}

/** AMQP header values as STOMP text; tables and arrays have no STOMP form and are left out (as RabbitMQ does). */
function headerText(value: FieldValue): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (typeof value === 'number') return String(value);
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  if (value instanceof TypedValue) return String(fieldNumber(value));
  return undefined;
}
