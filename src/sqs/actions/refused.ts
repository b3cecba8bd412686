import type { ActionHandler } from '../door.js';
import { sqsError } from '../errors.js';

/**
 * Actions Warren answers with a clear refusal (README, "SQS: differences"): queue policies granting
 * other AWS accounts (AddPermission / RemovePermission) have no meaning where access is Warren's users
 * and their vhost permissions; message move tasks are not built yet (use the management API's move,
 * or a shovel of messages with AMQP).
 */
function refuse(reason: string): ActionHandler {
  return () => {
    throw sqsError('UnsupportedOperation', reason);
  };
}

export const addPermission = refuse('AddPermission is not supported by Warren: access is granted with Warren users and vhost permissions.');
export const removePermission = refuse('RemovePermission is not supported by Warren: access is granted with Warren users and vhost permissions.');
export const startMessageMoveTask = refuse('StartMessageMoveTask is not supported by Warren yet.');
export const cancelMessageMoveTask = refuse('CancelMessageMoveTask is not supported by Warren yet.');
export const listMessageMoveTasks: ActionHandler = (door, call) => {
  door.queueAt(call, call.request.params['SourceArn'] === undefined ? undefined : arnToUrl(call.request.params['SourceArn']));
  return { Results: [] };
};

function arnToUrl(arn: unknown): string | undefined {
  if (typeof arn !== 'string') return undefined;
  const parts = arn.split(':');
  return parts.length === 6 ? `/${parts[4]}/${parts[5]}` : undefined;
}
