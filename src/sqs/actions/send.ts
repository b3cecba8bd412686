import { digestHex } from '../digest.js';
import type { QueueView } from '../../broker/queue-view.js';
import { BarrierSet } from '../../session/durability.js';
import type { ActionHandler, SqsCall, SqsDoor } from '../door.js';
import { invalidParameter, sqsError, SqsError, toSqsError } from '../errors.js';
import { md5Hex, md5OfAttributes } from '../md5.js';
import { attributeBytes, readMessageAttributes } from '../message-attributes.js';
import { entryList, optionalInteger, optionalString } from '../params.js';
import type { Params } from '../protocol/request.js';
import { messageSettings, type MessageSettings } from '../queue-settings.js';
import { toCoreMessage, type OutgoingMessage } from '../sqs-message.js';
import { checkBatch } from './batch.js';

/** Characters a body may hold (API reference, SendMessage): #x9 #xA #xD #x20-#xD7FF #xE000-#xFFFD #x10000-#x10FFFF. */
const INVALID_BODY_CHARACTER = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
const ID_PATTERN = /^[\x21-\x7e]{1,128}$/;

interface Prepared {
  message: OutgoingMessage;
  delaySeconds: number;
  md5OfBody: string;
  md5OfAttributes: string | undefined;
  md5OfSystemAttributes: string | undefined;
}

/** Validates one message of SendMessage or a batch entry against its queue's settings (read once per request). */
function prepare(call: SqsCall, settings: MessageSettings, params: Params): Prepared {
  const fifo = settings.fifo;
  const body = optionalString(params, 'MessageBody');
  if (body === undefined || body === '') throw sqsError('MissingParameter', 'The request must contain the parameter MessageBody.');
  if (INVALID_BODY_CHARACTER.test(body)) {
    throw sqsError('InvalidMessageContents', 'Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF');
  }
  const attributes = readMessageAttributes(params['MessageAttributes']);
  const system = readMessageAttributes(params['MessageSystemAttributes'], 'MessageSystemAttributes');
  for (const name in system) {
    if (name !== 'AWSTraceHeader' || system[name]!.DataType !== 'String') throw invalidParameter(`Message system attribute name '${name}' is invalid.`);
  }
  const size = Buffer.byteLength(body) + attributeBytes(attributes);
  const max = settings.maximumMessageSize;
  if (size > max) throw invalidParameter(`One or more parameters are invalid. Reason: Message must be shorter than ${max} bytes.`);
  const perMessageDelay = optionalInteger(params, 'DelaySeconds', 0, 900, 'must be between 0 and 900.');
  if (fifo && perMessageDelay !== undefined && perMessageDelay !== 0) {
    throw invalidParameter(`Value ${perMessageDelay} for parameter DelaySeconds is invalid. Reason: The request include parameter that is not valid for this queue type.`);
  }
  let groupId = optionalString(params, 'MessageGroupId');
  let deduplicationId = optionalString(params, 'MessageDeduplicationId');
  if (fifo) {
    if (groupId === undefined) throw sqsError('MissingParameter', 'The request must contain the parameter MessageGroupId.');
    if (!ID_PATTERN.test(groupId)) throw invalidParameter(`Value ${groupId} for parameter MessageGroupId is invalid.`);
    if (deduplicationId === undefined) {
      if (!settings.contentBasedDeduplication) {
        throw invalidParameter('The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly');
      }
      deduplicationId = digestHex('sha256', body);
    } else if (!ID_PATTERN.test(deduplicationId)) {
      throw invalidParameter(`Value ${deduplicationId} for parameter MessageDeduplicationId is invalid.`);
    }
  } else {
    if (deduplicationId !== undefined) throw invalidParameter('The request include parameter MessageDeduplicationId that is not valid for this queue type');
    groupId = undefined; // accepted on standard queues (fair queues), without ordering
  }
  const dedupKey = deduplicationId === undefined ? undefined : settings.deduplicationPerGroup ? `${groupId}\n${deduplicationId}` : deduplicationId;
  const traceHeader = system['AWSTraceHeader']?.StringValue;
  return {
    message: { body, attributes, traceHeader, groupId, deduplicationId: dedupKey, senderId: call.key.accessKeyId },
    delaySeconds: perMessageDelay ?? settings.delaySeconds,
    md5OfBody: md5Hex(body),
    md5OfAttributes: md5OfAttributes(attributes),
    md5OfSystemAttributes: md5OfAttributes(system),
  };
}

/** SendMessage's result (with the entry's Id in a batch), built member by member: no spreads per message. */
function resultOf(id: string | undefined, prepared: Prepared, messageId: string, sequenceNumber: string | undefined): Record<string, unknown> {
  const result: Record<string, unknown> = id === undefined ? {} : { Id: id };
  result['MessageId'] = messageId;
  result['MD5OfMessageBody'] = prepared.md5OfBody;
  if (prepared.md5OfAttributes !== undefined) result['MD5OfMessageAttributes'] = prepared.md5OfAttributes;
  if (prepared.md5OfSystemAttributes !== undefined) result['MD5OfMessageSystemAttributes'] = prepared.md5OfSystemAttributes;
  if (sequenceNumber !== undefined) result['SequenceNumber'] = sequenceNumber;
  return result;
}

/**
 * Hands a prepared message to the core (through the default exchange, as any door publishes) and
 * returns its result once it is durable: the answer waits for the broker's group commit and the
 * queue's own barrier, as an AMQP publisher confirm does. A delayed message waits in the vhost's
 * delay exchange (stored there, durable too) until it is due.
 */
function publish(door: SqsDoor, queue: QueueView, settings: MessageSettings, id: string | undefined, prepared: Prepared, barriers: BarrierSet): Record<string, unknown> {
  const dedupKey = prepared.message.deduplicationId;
  const sent = dedupKey === undefined ? undefined : door.sentBefore(queue);
  const original = sent?.get(dedupKey!);
  if (original !== undefined) {
    // A duplicate inside the interval: accepted, not delivered again, answered as the original was.
    // It waits for the same barriers, so the answer never comes before the original is durable.
    if (queue.durability !== undefined) barriers.join(queue.durability);
    return resultOf(id, prepared, original.messageId, original.sequenceNumber);
  }
  const sequenceNumber = settings.fifo ? door.nextSequenceNumber() : undefined;
  const delayed = prepared.delaySeconds > 0 ? { exchange: door.delayExchange(queue, prepared.delaySeconds), delayMs: prepared.delaySeconds * 1000 } : undefined;
  const core = toCoreMessage(queue.name, prepared.message, queue.durable, sequenceNumber, delayed);
  const outcome = queue.vhost.publish(core);
  if (outcome.refused) throw sqsError('OverLimit', `Queue ${queue.name} is full (its length limit refuses new messages).`);
  if (queue.durability !== undefined) barriers.join(queue.durability);
  const messageId = core.properties.messageId!;
  sent?.set(dedupKey!, { messageId, sequenceNumber });
  return resultOf(id, prepared, messageId, sequenceNumber);
}

function durable(barriers: BarrierSet): Promise<void> {
  return new Promise((resolve, reject) => {
    barriers.waitAll((lost) => (lost ? reject(sqsError('ServiceUnavailable', 'The message could not be stored; it may or may not have been accepted.')) : resolve()));
  });
}

function checkNotBlocked(door: SqsDoor): void {
  if (door.blockedReason !== undefined) throw sqsError('ServiceUnavailable', `Publishing is paused: ${door.blockedReason}.`);
}

export const sendMessage: ActionHandler = async (door, call) => {
  const { queue, access } = door.queueAt(call, call.request.params['QueueUrl']);
  access.writeQueue(queue.name);
  checkNotBlocked(door);
  const settings = messageSettings(door, queue);
  const prepared = prepare(call, settings, call.request.params);
  const barriers = new BarrierSet(door.broker);
  const result = publish(door, queue, settings, undefined, prepared, barriers);
  await durable(barriers);
  return result;
};

export const sendMessageBatch: ActionHandler = async (door, call) => {
  const { queue, access } = door.queueAt(call, call.request.params['QueueUrl']);
  access.writeQueue(queue.name);
  checkNotBlocked(door);
  const entries = entryList(call.request.params);
  checkBatch(entries);
  const settings = messageSettings(door, queue);
  const max = settings.maximumMessageSize;
  let total = 0;
  for (const entry of entries) total += Buffer.byteLength(typeof entry['MessageBody'] === 'string' ? entry['MessageBody'] : '');
  if (total > max) throw sqsError('BatchRequestTooLong', `Batch requests cannot be longer than ${max} bytes. You have sent ${total} bytes.`);
  const barriers = new BarrierSet(door.broker);
  const successful: Record<string, unknown>[] = [];
  const failed: Record<string, unknown>[] = [];
  for (const entry of entries) {
    const id = entry['Id'] as string;
    try {
      successful.push(publish(door, queue, settings, id, prepare(call, settings, entry), barriers));
    } catch (error) {
      failed.push(failure(id, toSqsError(error)));
    }
  }
  await durable(barriers);
  return { Successful: successful, Failed: failed };
};

export function failure(id: string, error: SqsError): Record<string, unknown> {
  return { Id: id, SenderFault: error.fault === 'Sender', Code: error.code, Message: error.message };
}
