import type { ActionHandler } from '../door.js';
import { getQueueAttributes, setQueueAttributes } from './attributes.js';
import { createQueue, deleteQueue, getQueueUrl, listDeadLetterSourceQueues, listQueues, purgeQueue } from './queues.js';
import { receiveMessage } from './receive.js';
import { cancelMessageMoveTask, listMessageMoveTasks, startMessageMoveTask } from './move-tasks.js';
import { addPermission, removePermission } from './permissions.js';
import { sendMessage, sendMessageBatch } from './send.js';
import { changeMessageVisibility, changeMessageVisibilityBatch, deleteMessage, deleteMessageBatch } from './settle.js';
import { listQueueTags, tagQueue, untagQueue } from './tags.js';

/** Every action of the SQS API reference (2012-11-05), by name. */
export const ACTIONS: ReadonlyMap<string, ActionHandler> = new Map<string, ActionHandler>([
  ['CreateQueue', createQueue],
  ['DeleteQueue', deleteQueue],
  ['GetQueueUrl', getQueueUrl],
  ['ListQueues', listQueues],
  ['GetQueueAttributes', getQueueAttributes],
  ['SetQueueAttributes', setQueueAttributes],
  ['PurgeQueue', purgeQueue],
  ['SendMessage', sendMessage],
  ['SendMessageBatch', sendMessageBatch],
  ['ReceiveMessage', receiveMessage],
  ['DeleteMessage', deleteMessage],
  ['DeleteMessageBatch', deleteMessageBatch],
  ['ChangeMessageVisibility', changeMessageVisibility],
  ['ChangeMessageVisibilityBatch', changeMessageVisibilityBatch],
  ['TagQueue', tagQueue],
  ['UntagQueue', untagQueue],
  ['ListQueueTags', listQueueTags],
  ['ListDeadLetterSourceQueues', listDeadLetterSourceQueues],
  ['StartMessageMoveTask', startMessageMoveTask],
  ['ListMessageMoveTasks', listMessageMoveTasks],
  ['CancelMessageMoveTask', cancelMessageMoveTask],
  ['AddPermission', addPermission],
  ['RemovePermission', removePermission],
]);
