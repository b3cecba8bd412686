import { randomUUID } from 'node:crypto';
import type { QueueEntry } from '../broker/front-door.js';
import { fieldNumber, isFieldTable, Message, TypedValue, type FieldTable, type FieldValue } from '../broker/message.js';
import type { MessageAttributeValue } from './message-attributes.js';

/**
 * How an SQS message lives in the core, so that every door reads the same message:
 * - the body is the body; MessageId is the AMQP message-id, SentTimestamp the publish time;
 * - each message attribute is an AMQP header of the same name: String and Number as strings,
 *   Binary as bytes; a DataType other than plain String/Binary (Number, custom `.suffix` types) is kept
 *   in the `x-sqs-data-types` table so it comes back exactly (the MD5 covers it);
 * - MessageGroupId is the `x-sqs-message-group-id` header (the FIFO queue's x-message-group-header),
 *   MessageDeduplicationId the `x-deduplication-header` the core deduplicates by, AWSTraceHeader
 *   `x-sqs-aws-trace-header`, SenderId `x-sqs-sender-id`, a FIFO SequenceNumber `x-sqs-sequence-number`.
 * An AMQP publish received over SQS shows its headers (those not starting with `x-`) as attributes:
 * strings as String, numbers as Number, byte arrays as Binary, booleans as String.
 */
export const GROUP_HEADER = 'x-sqs-message-group-id';
export const DEDUP_HEADER = 'x-deduplication-header';
const DATA_TYPES_HEADER = 'x-sqs-data-types';
const TRACE_HEADER = 'x-sqs-aws-trace-header';
const SENDER_HEADER = 'x-sqs-sender-id';
const SEQUENCE_HEADER = 'x-sqs-sequence-number';

export interface OutgoingMessage {
  body: string;
  attributes: Record<string, MessageAttributeValue>;
  traceHeader: string | undefined;
  groupId: string | undefined;
  deduplicationId: string | undefined;
  senderId: string;
}

/** A delayed send goes through the vhost's delay exchange (an x-delayed-message exchange) with x-delay. */
export interface DelayedRoute {
  exchange: string;
  delayMs: number;
}

export function toCoreMessage(queueName: string, message: OutgoingMessage, persistent: boolean, sequenceNumber?: string, delayed?: DelayedRoute): Message {
  const headers: FieldTable = {};
  const types: FieldTable = {};
  for (const [name, a] of Object.entries(message.attributes)) {
    headers[name] = a.BinaryValue ?? a.StringValue ?? '';
    if (a.DataType !== 'String' && a.DataType !== 'Binary') types[name] = a.DataType;
  }
  if (Object.keys(types).length > 0) headers[DATA_TYPES_HEADER] = types;
  if (message.groupId !== undefined) headers[GROUP_HEADER] = message.groupId;
  if (message.deduplicationId !== undefined) headers[DEDUP_HEADER] = message.deduplicationId;
  if (message.traceHeader !== undefined) headers[TRACE_HEADER] = message.traceHeader;
  headers[SENDER_HEADER] = message.senderId;
  if (sequenceNumber !== undefined) headers[SEQUENCE_HEADER] = sequenceNumber;
  if (delayed !== undefined) headers['x-delay'] = delayed.delayMs;
  const now = Date.now();
  return new Message(
    delayed?.exchange ?? '',
    queueName,
    { headers, deliveryMode: persistent ? 2 : 1, messageId: randomUUID(), timestamp: Math.floor(now / 1000) },
    Buffer.from(message.body, 'utf8'),
    undefined,
    now,
  );
}

/**
 * What a receive shows of a core message, whichever door published it, read only as far as the call
 * asks: most receives want neither message nor system attributes.
 */
export function messageIdOf(entry: QueueEntry): string {
  return entry.message.properties.messageId ?? `${entry.seq}`;
}

/** The message attributes: the headers not starting with `x-`, typed as `x-sqs-data-types` says. */
export function messageAttributesOf(message: Message): Record<string, MessageAttributeValue> {
  const headers = message.properties.headers;
  const attributes: Record<string, MessageAttributeValue> = {};
  if (headers === undefined) return attributes;
  const typeTable = headers[DATA_TYPES_HEADER];
  const types = isFieldTable(typeTable) ? typeTable : {};
  for (const name in headers) {
    if (name.startsWith('x-')) continue;
    const attribute = attributeOf(headers[name]!, types[name]);
    if (attribute !== undefined) attributes[name] = attribute;
  }
  return attributes;
}

/** The system attributes the door keeps in headers. */
export type HeaderSystemAttribute = 'SenderId' | 'SequenceNumber' | 'MessageDeduplicationId' | 'MessageGroupId' | 'AWSTraceHeader';

const SYSTEM_HEADERS: Readonly<Record<HeaderSystemAttribute, string>> = {
  SenderId: SENDER_HEADER,
  SequenceNumber: SEQUENCE_HEADER,
  MessageDeduplicationId: DEDUP_HEADER,
  MessageGroupId: GROUP_HEADER,
  AWSTraceHeader: TRACE_HEADER,
};

export function systemHeader(message: Message, name: HeaderSystemAttribute): string | undefined {
  const value = text(message.properties.headers?.[SYSTEM_HEADERS[name]]);
  // The deduplication header holds `group\nid` when ids count per group: SQS shows the id.
  return name === 'MessageDeduplicationId' ? value?.split('\n').pop() : value;
}

function attributeOf(value: FieldValue, declared: FieldValue | undefined): MessageAttributeValue | undefined {
  const dataType = typeof declared === 'string' ? declared : undefined;
  if (Buffer.isBuffer(value)) return { DataType: dataType ?? 'Binary', BinaryValue: value };
  if (typeof value === 'string') return { DataType: dataType ?? 'String', StringValue: value };
  if (typeof value === 'boolean') return { DataType: 'String', StringValue: String(value) };
  if (typeof value === 'number' || typeof value === 'bigint' || value instanceof TypedValue) {
    const n = fieldNumber(value);
    return n === undefined ? undefined : { DataType: 'Number', StringValue: String(typeof value === 'bigint' ? value : n) };
  }
  return undefined;
}

function text(value: FieldValue | undefined): string | undefined {
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  return undefined;
}
