import type { QueueEntry } from '../../broker/front-door.js';
import type { QueueView } from '../../broker/queue-view.js';
import type { ActionHandler, SqsDoor } from '../door.js';
import { invalidParameter } from '../errors.js';
import { readVisibility, type InFlightMessage } from '../in-flight.js';
import { md5Hex, md5OfAttributes } from '../md5.js';
import { attributesForOutput, type MessageAttributeValue } from '../message-attributes.js';
import { optionalInteger, optionalString, stringList } from '../params.js';
import type { Params } from '../protocol/request.js';
import { arnOf, messageSettings } from '../queue-settings.js';
import { receiveEntries } from '../receive.js';
import { messageAttributesOf, messageIdOf, systemHeader } from '../sqs-message.js';

/** The system attributes a receive may ask for ('All' means these). */
const SYSTEM_ATTRIBUTES: readonly string[] = [
  'SenderId', 'SentTimestamp', 'ApproximateReceiveCount', 'ApproximateFirstReceiveTimestamp', 'SequenceNumber',
  'MessageDeduplicationId', 'MessageGroupId', 'AWSTraceHeader', 'DeadLetterQueueSourceArn',
];
const KNOWN_SYSTEM_NAMES = new Set(['All', ...SYSTEM_ATTRIBUTES]);
const NO_NAMES: readonly string[] = [];

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
  const settings = messageSettings(door, queue);
  const max = optionalInteger(params, 'MaxNumberOfMessages', 1, 10, 'Must be between 1 and 10, if provided.') ?? 1;
  const visibilityRaw = optionalInteger(params, 'VisibilityTimeout', -1e9, 1e9);
  const visibility = visibilityRaw === undefined ? settings.visibilitySeconds : readVisibility(visibilityRaw);
  const wait = optionalInteger(params, 'WaitTimeSeconds', 0, 20, 'Must be >= 0 and <= 20, if provided.') ?? settings.waitSeconds;
  const wanted: Wanted = { system: systemNames(params), attributes: stringList(params, 'MessageAttributeNames') ?? NO_NAMES, account, queue };
  const attemptId = optionalString(params, 'ReceiveRequestAttemptId');
  if (attemptId !== undefined && !/^[\x21-\x7e]{1,128}$/.test(attemptId)) throw invalidParameter(`Value ${attemptId} for parameter ReceiveRequestAttemptId is invalid.`);

  const fifo = settings.fifo;
  const replay = fifo && attemptId !== undefined ? replayAttempt(door, queue, attemptId) : undefined;
  if (replay !== undefined) return { Messages: replay };
  const outcome = await receiveEntries(queue, call.owner, door.nextReceiveTag(), max, wait * 1000, call.client);
  if (outcome.entries.length === 0) return {};
  const held = door.inFlight.addAll(queue, outcome.entries, visibility);
  const messages = held.map((m) => render(door, m, wanted));
  if (fifo && attemptId !== undefined) door.attemptsOf(queue).set(attemptId, { held, messages, visibilitySeconds: visibility });
  return { Messages: messages };
};

/** AttributeNames and MessageSystemAttributeNames together, checked; 'All' expanded. */
function systemNames(params: Params): readonly string[] {
  const legacy = stringList(params, 'AttributeNames');
  const current = stringList(params, 'MessageSystemAttributeNames');
  if (legacy === undefined && current === undefined) return NO_NAMES;
  const names = new Set([...(legacy ?? []), ...(current ?? [])]);
  for (const name of names) if (!KNOWN_SYSTEM_NAMES.has(name)) throw invalidParameter(`Unknown Attribute ${name}.`);
  return names.has('All') ? SYSTEM_ATTRIBUTES : [...names];
}

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

/** What the call asks to see of each message, resolved once per receive. */
interface Wanted {
  /** System attributes by name (AttributeNames / MessageSystemAttributeNames); empty: none. */
  readonly system: readonly string[];
  /** MessageAttributeNames; empty: none. */
  readonly attributes: readonly string[];
  readonly account: string;
  readonly queue: QueueView;
}

function render(door: SqsDoor, held: InFlightMessage, wanted: Wanted): Record<string, unknown> {
  const entry = held.entry;
  const body = entry.message.body.toString('utf8');
  const message: Record<string, unknown> = { MessageId: messageIdOf(entry), ReceiptHandle: held.handle, MD5OfBody: md5Hex(body), Body: body };
  if (wanted.system.length > 0) {
    const attributes = systemAttributes(door, entry, held.firstReceivedAt, wanted);
    if (attributes !== undefined) message['Attributes'] = attributes;
  }
  if (wanted.attributes.length > 0) {
    const selected = selectAttributes(messageAttributesOf(entry.message), wanted.attributes);
    const md5 = md5OfAttributes(selected);
    if (md5 !== undefined) {
      message['MD5OfMessageAttributes'] = md5;
      message['MessageAttributes'] = attributesForOutput(selected);
    }
  }
  return message;
}

/** Only the system attributes asked for are computed. */
function systemAttributes(door: SqsDoor, entry: QueueEntry, first: number, wanted: Wanted): Record<string, string> | undefined {
  let attributes: Record<string, string> | undefined;
  for (const name of wanted.system) {
    const value = systemAttribute(door, entry, first, wanted, name);
    if (value !== undefined) (attributes ??= {})[name] = value;
  }
  return attributes;
}

function systemAttribute(door: SqsDoor, entry: QueueEntry, first: number, wanted: Wanted, name: string): string | undefined {
  switch (name) {
    case 'SenderId':
      return systemHeader(entry.message, 'SenderId') ?? 'AMQP';
    case 'SentTimestamp':
      return String(entry.message.publishedAt);
    case 'ApproximateReceiveCount':
      return String(entry.deliveryCount);
    case 'ApproximateFirstReceiveTimestamp':
      return String(first);
    case 'SequenceNumber':
    case 'MessageDeduplicationId':
    case 'MessageGroupId':
    case 'AWSTraceHeader':
      return systemHeader(entry.message, name);
    case 'DeadLetterQueueSourceArn':
      return redriveSourceArn(door, wanted.account, wanted.queue, entry);
    default:
      return undefined;
  }
}

/** MessageAttributeNames: 'All' or '.*', exact names, or prefixes written 'name.*'. */
function selectAttributes(attributes: Record<string, MessageAttributeValue>, filter: readonly string[]): Record<string, MessageAttributeValue> {
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
