/**
 * Kafka records <-> the core's messages (README "Kafka", "What an AMQP client sees"):
 *
 * - value <-> body; timestamp (ms) <-> the message's publish time (kept to the millisecond in the
 *   stored header) and the AMQP `timestamp` property (seconds);
 * - headers <-> AMQP headers: a value that is valid UTF-8 becomes a long string, others a byte array;
 *   back to Kafka, strings are UTF-8, byte arrays as they are, numbers and booleans as text;
 * - key -> the AMQP header `x-kafka-key` (absent when null) and, when it is UTF-8 of at most 255
 *   bytes, the routing key (what RabbitMQ's super streams route by). Back to Kafka the key is
 *   `x-kafka-key` when present, else the routing key of a message published through an exchange
 *   (a super stream's, a direct one's), else null: a publish to the default exchange has no key;
 * - Kafka-written messages are persistent (delivery mode 2) and carry the topic as their exchange.
 */
import { isUtf8 } from 'node:buffer';
import { Message, TypedValue, type FieldTable, type FieldValue } from '../broker/message.js';
import type { KafkaRecord, OutgoingRecord, RecordHeader } from './protocol/record-batch.js';

export const KEY_HEADER = 'x-kafka-key';
/** Added to each AMQP delivery of a stream (not stored): never sent to Kafka clients. */
const OFFSET_HEADER = 'x-stream-offset';

const NO_HEADERS: readonly RecordHeader[] = [];

export function recordToMessage(topic: string, record: KafkaRecord, now: number): Message {
  const headers: FieldTable = {};
  for (const header of record.headers) headers[header.key] = header.value === null ? null : asText(header.value);
  let routingKey = '';
  if (record.key !== null) {
    headers[KEY_HEADER] = asText(record.key);
    if (record.key.length <= 255 && isUtf8(record.key)) routingKey = record.key.toString('utf8');
  }
  const timestamp = record.timestamp >= 0 ? record.timestamp : now;
  const properties = { headers, deliveryMode: 2, timestamp: Math.floor(timestamp / 1000) };
  return new Message(topic, routingKey, properties, record.value ?? Buffer.alloc(0), undefined, timestamp);
}

function asText(bytes: Buffer): string | Buffer {
  return isUtf8(bytes) ? bytes.toString('utf8') : Buffer.from(bytes);
}

export function messageToRecord(message: Message): OutgoingRecord {
  const source = message.properties.headers;
  let key: Buffer | null = null;
  let headers: RecordHeader[] | readonly RecordHeader[] = NO_HEADERS;
  if (source !== undefined) {
    const list: RecordHeader[] = [];
    for (const name in source) {
      const value = source[name];
      if (name === KEY_HEADER) key = fieldBytes(value);
      else if (name !== OFFSET_HEADER) list.push({ key: name, value: fieldBytes(value) });
    }
    headers = list;
  }
  if (key === null && message.exchange !== '' && message.routingKey !== '' && source?.[KEY_HEADER] === undefined) {
    key = Buffer.from(message.routingKey, 'utf8');
  }
  return { timestamp: Math.round(message.publishedAt), key, value: message.body, headers };
}

function fieldBytes(value: FieldValue | undefined): Buffer | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  if (Buffer.isBuffer(value)) return value;
  if (value instanceof Uint8Array) return Buffer.from(value);
  if (value instanceof TypedValue) return Buffer.from(String(value.value), 'utf8');
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return Buffer.from(String(value), 'utf8');
  if (value instanceof Date) return Buffer.from(String(value.getTime()), 'utf8');
  return Buffer.from(JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)), 'utf8');
}
