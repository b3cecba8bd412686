import { checkQueueName, queueUrl } from '../addresses.js';
import type { ActionHandler, SqsCall } from '../door.js';
import { invalidParameter, sqsError } from '../errors.js';
import { optionalInteger, optionalString, requiredString, stringMap } from '../params.js';
import { validateAttributes } from '../queue-attributes.js';
import { applyCorePolicy, arnOf, defaultsFor, fifoArguments, recordOf, removeCorePolicy } from '../queue-settings.js';
import type { QueueView } from '../../broker/queue-view.js';
import { validateTags } from './tags.js';

const PURGE_INTERVAL_MS = 60_000;

export function urlOf(call: SqsCall, account: string, queue: QueueView | string): string {
  return queueUrl(call.scheme, call.host, { account, name: typeof queue === 'string' ? queue : queue.name });
}

/**
 * CreateQueue: an SQS queue is a durable Warren queue of the same name in the account's vhost.
 * Creating an existing queue with the same attributes returns its URL; different ones are
 * QueueNameExists (AWS's rule).
 */
export const createQueue: ActionHandler = async (door, call) => {
  const params = call.request.params;
  const name = requiredString(params, 'QueueName');
  const { fifo } = checkQueueName(name);
  const given = validateAttributes(params['Attributes'], fifo, true);
  // The JSON protocol's member is `tags` (the service model's jsonName); the query protocol's Tag.N becomes `Tags`.
  const tags = validateTags(stringMap(params, 'tags') ?? stringMap(params, 'Tags') ?? {});
  const { vhost, account } = door.homeVhost(call);
  door.access(call, vhost.name).declareQueue(name);
  const existing = vhost.getQueue(name);
  if (existing !== undefined) {
    const record = recordOf(door, existing);
    for (const [attribute, value] of Object.entries(given)) {
      if (record.attributes[attribute] !== value) {
        throw sqsError('QueueNameExists', `A queue already exists with the same name and a different value for attribute ${attribute}`);
      }
    }
    return { QueueUrl: urlOf(call, account, existing) };
  }
  const attributes = { ...defaultsFor(fifo), ...given };
  applyCorePolicy(door, vhost, name, attributes); // checks RedrivePolicy; set first so the queue starts with it
  try {
    vhost.declareQueue({ name, durable: true, exclusive: false, autoDelete: false, arguments: fifo ? fifoArguments() : {} }, call.owner);
  } catch (error) {
    removeCorePolicy(vhost, name);
    throw error;
  }
  const now = Math.floor(Date.now() / 1000);
  door.registry.put(vhost.name, name, { attributes, tags, created: now, modified: now });
  await door.definitionsDurable();
  return { QueueUrl: urlOf(call, account, name) };
};

export const getQueueUrl: ActionHandler = (door, call) => {
  const params = call.request.params;
  const name = requiredString(params, 'QueueName');
  const ownerAccount = optionalString(params, 'QueueOwnerAWSAccountId');
  const { vhost, account } = ownerAccount === undefined ? door.homeVhost(call) : door.vhostNamed(door.accounts.accounts.get(ownerAccount) ?? '\u0000');
  door.access(call, vhost.name);
  const queue = vhost.getQueue(name);
  if (queue === undefined || queue.exclusiveOwner !== undefined) throw sqsError('QueueDoesNotExist', 'The specified queue does not exist.');
  return { QueueUrl: urlOf(call, account, queue) };
};

export const deleteQueue: ActionHandler = async (door, call) => {
  const { queue, access } = door.queueAt(call, call.request.params['QueueUrl']);
  access.deleteQueue(queue.name);
  const vhost = queue.vhost;
  vhost.deleteQueue(queue.name, { ifUnused: false, ifEmpty: false }, call.owner);
  door.inFlight.forgetQueue(queue);
  removeCorePolicy(vhost, queue.name);
  door.registry.delete(vhost.name, queue.name);
  await door.definitionsDurable();
  return undefined;
};

/** ListQueues: prefix, MaxResults 1..1000 with NextToken (the last name returned), names in order. */
export const listQueues: ActionHandler = (door, call) => {
  const params = call.request.params;
  const prefix = optionalString(params, 'QueueNamePrefix') ?? '';
  const max = optionalInteger(params, 'MaxResults', 1, 1000);
  const token = optionalString(params, 'NextToken');
  if (token !== undefined && max === undefined) throw invalidParameter('MaxResults is required with NextToken.');
  const after = token === undefined ? undefined : decodeToken(token);
  const { vhost, account } = door.homeVhost(call);
  door.access(call, vhost.name);
  const names = [...vhost.queues.values()]
    .filter((q) => q.exclusiveOwner === undefined && !q.isDirectReplyTo && q.name.startsWith(prefix) && (after === undefined || q.name > after))
    .map((q) => q.name)
    .sort();
  const limit = max ?? 1000;
  const page = names.slice(0, limit);
  const result: Record<string, unknown> = {};
  if (page.length > 0) result['QueueUrls'] = page.map((name) => urlOf(call, account, name));
  if (max !== undefined && names.length > limit) result['NextToken'] = Buffer.from(page[page.length - 1]!).toString('base64url');
  return result;
};

function decodeToken(token: string): string {
  const name = Buffer.from(token, 'base64url').toString();
  if (name === '' || !/^[A-Za-z0-9_.-]+$/.test(name)) throw invalidParameter('Invalid NextToken value.');
  return name;
}

/** PurgeQueue: ready messages go at once; one purge per queue per 60 seconds (PurgeQueueInProgress). */
export const purgeQueue: ActionHandler = (door, call) => {
  const { queue, access } = door.queueAt(call, call.request.params['QueueUrl']);
  access.readQueue(queue.name);
  const last = door.purgedAt.get(queue);
  const now = Date.now();
  if (last !== undefined && now - last < PURGE_INTERVAL_MS) {
    throw sqsError('PurgeQueueInProgress', `Only one PurgeQueue operation on ${queue.name} is allowed every 60 seconds.`);
  }
  door.purgedAt.set(queue, now);
  queue.vhost.purgeQueue(queue.name, call.owner);
  return undefined;
};

/** Queues whose RedrivePolicy names this one. */
export const listDeadLetterSourceQueues: ActionHandler = (door, call) => {
  const { queue, account } = door.queueAt(call, call.request.params['QueueUrl']);
  const arn = arnOf(door, account, queue);
  const sources: string[] = [];
  for (const candidate of queue.vhost.queues.values()) {
    const redrive = door.registry.get(candidate.vhost.name, candidate.name)?.attributes['RedrivePolicy'];
    if (redrive === undefined || redrive === '') continue;
    try {
      if ((JSON.parse(redrive) as { deadLetterTargetArn?: unknown }).deadLetterTargetArn === arn) sources.push(candidate.name);
    } catch {
      // validated when set; nothing to list
    }
  }
  sources.sort();
  return { queueUrls: sources.map((name) => urlOf(call, account, name)) };
};

