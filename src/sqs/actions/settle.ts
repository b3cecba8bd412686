import type { ActionHandler } from '../door.js';
import { sqsError, toSqsError } from '../errors.js';
import { readVisibility } from '../in-flight.js';
import { entryList, optionalInteger, requiredString } from '../params.js';
import type { Params } from '../protocol/request.js';
import type { QueueView } from '../../broker/queue-view.js';
import type { SqsDoor } from '../door.js';
import { checkBatch } from './batch.js';
import { failure } from './send.js';

/** DeleteMessage: a genuine handle whose message is no longer in flight succeeds and changes nothing (AWS's rule). */
function deleteOne(door: SqsDoor, queue: QueueView, params: Params): void {
  const found = door.inFlight.lookup(requiredString(params, 'ReceiptHandle'), queue);
  if (found.kind === 'live') door.inFlight.delete(found.message);
}

/** ChangeMessageVisibility: only for a message in flight; 0 makes it receivable at once. */
function changeOne(door: SqsDoor, queue: QueueView, params: Params): void {
  const handle = requiredString(params, 'ReceiptHandle');
  const raw = optionalInteger(params, 'VisibilityTimeout', -1e9, 1e9);
  if (raw === undefined) throw sqsError('MissingParameter', 'The request must contain the parameter VisibilityTimeout.');
  const seconds = readVisibility(raw);
  const found = door.inFlight.lookup(handle, queue);
  if (found.kind !== 'live') throw sqsError('MessageNotInflight', 'Message does not exist or is not available for visibility timeout change.');
  door.inFlight.setVisibility(found.message, seconds);
}

function single(settle: (door: SqsDoor, queue: QueueView, params: Params) => void): ActionHandler {
  return (door, call) => {
    const { queue, access } = door.queueAt(call, call.request.params['QueueUrl']);
    access.readQueue(queue.name);
    settle(door, queue, call.request.params);
    return undefined;
  };
}

/** A batch: each entry succeeds or fails on its own (Successful / Failed), as AWS answers. */
function batch(settle: (door: SqsDoor, queue: QueueView, params: Params) => void): ActionHandler {
  return (door, call) => {
    const { queue, access } = door.queueAt(call, call.request.params['QueueUrl']);
    access.readQueue(queue.name);
    const entries = entryList(call.request.params);
    checkBatch(entries);
    const successful: Record<string, unknown>[] = [];
    const failed: Record<string, unknown>[] = [];
    for (const entry of entries) {
      const id = entry['Id'] as string;
      try {
        settle(door, queue, entry);
        successful.push({ Id: id });
      } catch (error) {
        failed.push(failure(id, toSqsError(error)));
      }
    }
    return { Successful: successful, Failed: failed };
  };
}

export const deleteMessage = single(deleteOne);
export const deleteMessageBatch = batch(deleteOne);
export const changeMessageVisibility = single(changeOne);
export const changeMessageVisibilityBatch = batch(changeOne);
