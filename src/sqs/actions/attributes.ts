import type { ActionHandler } from '../door.js';
import { requestedNames, validateAttributes } from '../queue-attributes.js';
import { applyCorePolicy, arnOf, isFifo, recordOf } from '../queue-settings.js';

export const getQueueAttributes: ActionHandler = (door, call) => {
  const { queue, account } = door.queueAt(call, call.request.params['QueueUrl']);
  const wanted = requestedNames(call.request.params['AttributeNames']);
  const record = recordOf(door, queue);
  const fifo = isFifo(queue);
  const all: Record<string, string> = {
    ...record.attributes,
    QueueArn: arnOf(door, account, queue),
    ApproximateNumberOfMessages: String(queue.readyCount()),
    ApproximateNumberOfMessagesNotVisible: String(queue.unackedCount()),
    ApproximateNumberOfMessagesDelayed: String(door.delayedCount(queue)),
    CreatedTimestamp: String(record.created),
    LastModifiedTimestamp: String(record.modified),
  };
  if (fifo) all['FifoQueue'] = 'true';
  const attributes: Record<string, string> = {};
  for (const [name, value] of Object.entries(all)) if (wanted === 'all' || wanted.has(name)) attributes[name] = value;
  return Object.keys(attributes).length === 0 ? {} : { Attributes: attributes };
};

/** SetQueueAttributes: validated as a whole before anything changes; the core's part becomes the queue's policy. */
export const setQueueAttributes: ActionHandler = async (door, call) => {
  const { queue, access } = door.queueAt(call, call.request.params['QueueUrl']);
  access.declareQueue(queue.name);
  const changes = validateAttributes(call.request.params['Attributes'], isFifo(queue), false);
  const record = recordOf(door, queue);
  const attributes = { ...record.attributes, ...changes };
  if (attributes['RedrivePolicy'] === '') delete attributes['RedrivePolicy'];
  applyCorePolicy(door, queue.vhost, queue.name, attributes);
  door.registry.put(queue.vhost.name, queue.name, { ...record, attributes, modified: Math.floor(Date.now() / 1000) });
  await door.definitionsDurable();
  return undefined;
};
