import { parseQueueArn } from '../addresses.js';
import type { ActionHandler, SqsCall, SqsDoor } from '../door.js';
import { invalidParameter, sqsError } from '../errors.js';
import { MoveTask, sourceKeyOf } from '../move-tasks.js';
import { optionalInteger, optionalString, requiredString } from '../params.js';
import type { QueueView } from '../../broker/queue-view.js';

function queueByArn(door: SqsDoor, call: SqsCall, arn: string, member: string): { queue: QueueView } {
  const address = parseQueueArn(door.accounts, arn);
  const queue = address === undefined ? undefined : door.broker.getVhost(address.vhost)?.getQueue(address.name);
  if (address === undefined || queue === undefined) throw sqsError('ResourceNotFoundException', `${member} ${arn} does not name an existing queue.`);
  door.access(call, address.vhost);
  return { queue };
}

/** Whether some queue's RedrivePolicy names `arn` (AWS: the source of a move task must be a dead-letter queue). */
function isDeadLetterQueue(door: SqsDoor, queue: QueueView, arn: string): boolean {
  for (const candidate of queue.vhost.queues.values()) {
    const redrive = door.registry.get(candidate.vhost.name, candidate.name)?.attributes['RedrivePolicy'];
    if (redrive !== undefined && redrive.includes(arn)) return true;
  }
  return false;
}

export const startMessageMoveTask: ActionHandler = (door, call) => {
  const params = call.request.params;
  const sourceArn = requiredString(params, 'SourceArn');
  const { queue: source } = queueByArn(door, call, sourceArn, 'SourceArn');
  door.access(call, source.vhost.name).readQueue(source.name);
  if (!isDeadLetterQueue(door, source, sourceArn)) throw invalidParameter('Source queue must be configured as a Dead Letter Queue.');
  const destinationArn = optionalString(params, 'DestinationArn');
  const destination = destinationArn === undefined ? undefined : queueByArn(door, call, destinationArn, 'DestinationArn').queue;
  if (destination !== undefined) door.access(call, destination.vhost.name).writeQueue(destination.name);
  const rate = optionalInteger(params, 'MaxNumberOfMessagesPerSecond', 1, 500);
  if ([...door.moveTasks.values()].some((t) => t.sourceKey === sourceKeyOf(source) && t.status === 'RUNNING')) {
    throw sqsError('UnsupportedOperation', 'There is already a task running. Only one active task is allowed for a source queue ARN at a given time.');
  }
  const task = door.startMoveTask(source, sourceArn, destination, destinationArn, rate);
  return { TaskHandle: task.handle };
};

export const listMessageMoveTasks: ActionHandler = (door, call) => {
  const params = call.request.params;
  const sourceArn = requiredString(params, 'SourceArn');
  const { queue: source } = queueByArn(door, call, sourceArn, 'SourceArn');
  const max = optionalInteger(params, 'MaxResults', 1, 10) ?? 1;
  const tasks = [...door.moveTasks.values()].filter((t) => t.sourceKey === sourceKeyOf(source)).sort((a, b) => b.startedAt - a.startedAt).slice(0, max);
  return {
    Results: tasks.map((t) => ({
      ...(t.status === 'RUNNING' ? { TaskHandle: t.handle } : {}),
      Status: t.status,
      SourceArn: t.sourceArn,
      ...(t.destinationArn === undefined ? {} : { DestinationArn: t.destinationArn }),
      ...(t.rate === undefined ? {} : { MaxNumberOfMessagesPerSecond: t.rate }),
      ApproximateNumberOfMessagesMoved: t.moved,
      ApproximateNumberOfMessagesToMove: t.toMove,
      ...(t.failureReason === undefined ? {} : { FailureReason: t.failureReason }),
      StartedTimestamp: t.startedAt,
    })),
  };
};

export const cancelMessageMoveTask: ActionHandler = (door, call) => {
  const handle = requiredString(call.request.params, 'TaskHandle');
  const task = door.moveTasks.get(handle);
  if (!(task instanceof MoveTask) || task.status !== 'RUNNING') throw sqsError('ResourceNotFoundException', `Task ${handle} does not exist or is not running.`);
  door.access(call, task.source.vhost.name).readQueue(task.source.name);
  task.cancel();
  return { ApproximateNumberOfMessagesMoved: task.moved };
};
