import type { ActionHandler } from '../door.js';
import { invalidParameter } from '../errors.js';
import { stringList, stringMap } from '../params.js';
import { recordOf } from '../queue-settings.js';

const MAX_TAGS = 50;

/** Tag keys 1-128 characters, values up to 256, at most 50 per queue, no aws: prefix (SQS developer guide, "Tags"). */
export function validateTags(tags: Record<string, string>): Record<string, string> {
  for (const [key, value] of Object.entries(tags)) {
    if (key.length === 0 || key.length > 128 || key.toLowerCase().startsWith('aws:')) throw invalidParameter(`Tag key '${key.slice(0, 130)}' is invalid.`);
    if (value.length > 256) throw invalidParameter(`Tag value for key '${key}' is longer than 256 characters.`);
  }
  if (Object.keys(tags).length > MAX_TAGS) throw invalidParameter(`Too many tags: at most ${MAX_TAGS} per queue.`);
  return tags;
}

export const tagQueue: ActionHandler = (door, call) => {
  const { queue, access } = door.queueAt(call, call.request.params['QueueUrl']);
  access.declareQueue(queue.name);
  const record = recordOf(door, queue);
  const tags = validateTags({ ...record.tags, ...validateTags(stringMap(call.request.params, 'Tags') ?? {}) });
  door.registry.put(queue.vhost.name, queue.name, { ...record, tags });
  return undefined;
};

export const untagQueue: ActionHandler = (door, call) => {
  const { queue, access } = door.queueAt(call, call.request.params['QueueUrl']);
  access.declareQueue(queue.name);
  const record = recordOf(door, queue);
  const tags = { ...record.tags };
  for (const key of stringList(call.request.params, 'TagKeys') ?? []) delete tags[key];
  door.registry.put(queue.vhost.name, queue.name, { ...record, tags });
  return undefined;
};

export const listQueueTags: ActionHandler = (door, call) => {
  const { queue } = door.queueAt(call, call.request.params['QueueUrl']);
  const tags = recordOf(door, queue).tags;
  return Object.keys(tags).length === 0 ? {} : { Tags: tags };
};
