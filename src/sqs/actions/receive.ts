import type { QueueEntry } from '../../broker/front-door.js';
import type { QueueView } from '../../broker/queue-view.js';
import type { ActionHandler, SqsDoor } from '../door.js';
import { invalidParameter } from '../errors.js';
import { readVisibility } from '../in-flight.js';
import { md5Hex, md5OfAttributes } from '../md5.js';
import { attributesForOutput, type MessageAttributeValue } from '../message-attributes.js';
import { optionalInteger, optionalString, stringList } from '../params.js';
import { arnOf, isFifo, numberAttribute, recordOf } from '../queue-settings.js';
import { receiveEntries } from '../receive.js';
import { fromCoreMessage } from '../sqs-message.js';

const SYSTEM_ATTRIBUTES = new Set([
  'All', 'SenderId', 'SentTimestamp', 'ApproximateReceiveCount', 'ApproximateFirstReceiveTimestamp', 'SequenceNumber',
  'MessageDeduplicationId', 'MessageGroupId', 'AWSTraceHeader', 'DeadLetterQueueSourceArn',
]);

/**
 * ReceiveMessage: up to MaxNumberOfMessages (1-10), waiting up to WaitTimeSeconds (0-20; default the
 * queue's ReceiveMessageWaitTimeSeconds) for the first; each message is then invisible for
 * VisibilityTimeout (default the queue's) until deleted. On a FIFO queue a ReceiveRequestAttemptId
 * makes a retry inside 5 minutes answer with the same messages (replayAttempt).
 */
export const receiveMessage: ActionHandler = async (door, call) => {
  const params = call.request.params;
  const { queue, access, account } = door.queueAt(call, params['QueueUrl']);
  access.readQueue(queue.name);
  const record = recordOf(door, queue);
  const max = optionalInteger(params, 'MaxNumberOfMessages', 1, 10, 'Must be between 1 and 10, if provided.') ?? 1;
  const visibilityRaw = optionalInteger(params, 'VisibilityTimeout', -1e9, 1e9);
  const visibility = visibilityRaw === undefined ? numberAttribute(record, 'VisibilityTimeout') : readVisibility(visibilityRaw);
  const wait = optionalInteger(params, 'WaitTimeSeconds', 0, 20, 'Must be >= 0 and <= 20, if provided.') ?? numberAttribute(record, 'ReceiveMessageWaitTimeSeconds');
  const systemNames = new Set([...(stringList(params, 'AttributeNames') ?? []), ...(stringList(params, 'MessageSystemAttributeNames') ?? [])]);
  for (const name of systemNames) if (!SYSTEM_ATTRIBUTES.has(name)) throw invalidParameter(`Unknown Attribute ${name}.`);
  const attributeFilter = stringList(params, 'MessageAttributeNames') ?? [];
  const attemptId = optionalString(params, 'ReceiveRequestAttemptId');
  if (attemptId !== undefined && !/^[\x21-\x7e]{1,128}$/.test(attemptId)) throw invalidParameter(`Value ${attemptId} for parameter ReceiveRequestAttemptId is invalid.`);

  const fifo = isFifo(queue);
  const replay = fifo && attemptId !== undefined ? replayAttempt(door, queue, attemptId) : undefined;
  if (replay !== undefined) return { Messages: replay };
  const outcome = await receiveEntries(queue, call.owner, door.nextReceiveTag(), max, wait * 1000, call.client);
  if (outcome.entries.length === 0) return {};
  const held = outcome.entries.map((entry) => door.inFlight.add(queue, entry, visibility));
  const messages = held.map((m) => render(door, m.entry, m.handle, systemNames, attributeFilter, redriveSourceArn(door, account, queue, m.entry)));
  if (fifo && attemptId !== undefined) door.attemptsOf(queue).set(attemptId, { held, messages, visibilitySeconds: visibility });
  return { Messages: messages };
};

/**
 * A FIFO retry with a ReceiveRequestAttemptId seen in the last 5 minutes: the same messages and receipt
 * handles, their visibility timeout started again, if every one is still in flight untouched (not
 * deleted, not returned, no ChangeMessageVisibility). Otherwise the attempt is forgotten and the
 * call receives anew.
 */
function replayAttempt(door: SqsDoor, queue: QueueView, attemptId: string): Record<string, unknown>[] | undefined {
  const attempts = door.attemptsOf(queue);
  const attempt = attempts.get(attemptId);
  if (attempt === undefined) return undefined;
  if (!attempt.held.every((m) => door.inFlight.untouched(m))) {
    attempts.delete(attemptId);
    return undefined;
  }
  for (const m of attempt.held) door.inFlight.restartVisibility(m, attempt.visibilitySeconds);
  return attempt.messages;
}

function render(door: SqsDoor, entry: QueueEntry, receiptHandle: string, systemNames: Set<string>, filter: string[], dlqSource: string | undefined): Record<string, unknown> {
  const incoming = fromCoreMessage(entry, `${entry.seq}`);
  const now = Date.now();
  let first = door.firstReceived.get(entry);
  if (first === undefined) door.firstReceived.set(entry, (first = now));
  const message: Record<string, unknown> = {
    MessageId: incoming.messageId,
    ReceiptHandle: receiptHandle,
    MD5OfBody: md5Hex(incoming.body),
    Body: incoming.body,
  };
  const all = systemNames.has('All');
  const system: Record<string, string | undefined> = {
    SenderId: incoming.senderId ?? 'AMQP',
    SentTimestamp: String(incoming.sentTimestamp),
    ApproximateReceiveCount: String(entry.deliveryCount),
    ApproximateFirstReceiveTimestamp: String(first),
    SequenceNumber: incoming.sequenceNumber,
    MessageDeduplicationId: incoming.deduplicationId?.split('\n').pop(),
    MessageGroupId: incoming.groupId,
    AWSTraceHeader: incoming.traceHeader,
    DeadLetterQueueSourceArn: dlqSource,
  };
  const attributes: Record<string, string> = {};
  for (const [name, value] of Object.entries(system)) if (value !== undefined && (all || systemNames.has(name))) attributes[name] = value;
  if (Object.keys(attributes).length > 0) message['Attributes'] = attributes;
  const selected = selectAttributes(incoming.attributes, filter);
  const md5 = md5OfAttributes(selected);
  if (md5 !== undefined) {
    message['MD5OfMessageAttributes'] = md5;
    message['MessageAttributes'] = attributesForOutput(selected);
  }
  return message;
}

/** MessageAttributeNames: 'All' or '.*', exact names, or prefixes written 'name.*'. */
function selectAttributes(attributes: Record<string, MessageAttributeValue>, filter: string[]): Record<string, MessageAttributeValue> {
  if (filter.length === 0) return {};
  if (filter.includes('All') || filter.includes('.*')) return attributes;
  const out: Record<string, MessageAttributeValue> = {};
  for (const [name, value] of Object.entries(attributes)) {
    if (filter.some((f) => f === name || (f.endsWith('.*') && name.startsWith(f.slice(0, -1))))) out[name] = value;
  }
  return out;
}

/** A dead-lettered message names the queue it came from (the core's x-death header). */
function redriveSourceArn(door: SqsDoor, account: string, queue: QueueView, entry: QueueEntry): string | undefined {
  const death = entry.message.properties.headers?.['x-first-death-queue'];
  if (typeof death !== 'string') return undefined;
  const source = queue.vhost.getQueue(death);
  return source === undefined ? undefined : arnOf(door, account, source);
}
