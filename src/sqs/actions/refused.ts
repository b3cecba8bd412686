import type { ActionHandler } from '../door.js';
import { sqsError } from '../errors.js';

/**
 * Actions Warren answers with a clear refusal (README, "SQS: differences"): queue policies granting
 * other AWS accounts (AddPermission / RemovePermission) have no meaning where access is Warren's users
 * and their vhost permissions.
 */
function refuse(reason: string): ActionHandler {
  return () => {
    throw sqsError('UnsupportedOperation', reason);
  };
}

export const addPermission = refuse('AddPermission is not supported by Warren: access is granted with Warren users and vhost permissions.');
export const removePermission = refuse('RemovePermission is not supported by Warren: access is granted with Warren users and vhost permissions.');
