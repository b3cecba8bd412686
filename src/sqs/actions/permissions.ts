import type { ActionHandler } from '../door.js';
import { invalidParameter, missingParameter } from '../errors.js';
import { requiredString, stringList } from '../params.js';
import { arnOf, recordOf } from '../queue-settings.js';

/** Actions a permission may name (API reference, AddPermission: ActionName.N). */
const GRANTABLE = new Set(['*', 'SendMessage', 'ReceiveMessage', 'DeleteMessage', 'ChangeMessageVisibility', 'GetQueueAttributes', 'GetQueueUrl', 'ListDeadLetterSourceQueues', 'PurgeQueue']);
const LABEL = /^[A-Za-z0-9_-]{1,80}$/;
const ACCOUNT = /^\d{12}$/;

interface Statement {
  Sid: string;
  Effect: string;
  Principal: { AWS: string | string[] };
  Action: string | string[];
  Resource: string;
}

interface PolicyDocument {
  Version: string;
  Id: string;
  Statement: Statement[];
}

function policyOf(text: string | undefined, id: string): PolicyDocument {
  if (text !== undefined && text !== '') {
    try {
      const parsed = JSON.parse(text) as Partial<PolicyDocument>;
      if (Array.isArray(parsed.Statement)) return { Version: parsed.Version ?? '2012-10-17', Id: parsed.Id ?? id, Statement: parsed.Statement };
    } catch {
      // validated as JSON when set; a policy without statements starts over
    }
  }
  return { Version: '2012-10-17', Id: id, Statement: [] };
}

/**
 * AddPermission: a statement labelled `Label` allowing the accounts the actions, added to the queue's
 * `Policy` attribute as SQS writes it (Sid = label, principals arn:aws:iam::ACCOUNT:root, actions
 * SQS:<name>). Warren stores and shows the policy but does not enforce it: access is Warren users and
 * their vhost permissions (README, "Differences from Amazon SQS").
 */
export const addPermission: ActionHandler = (door, call) => {
  const params = call.request.params;
  const { queue, access, account } = door.queueAt(call, params['QueueUrl']);
  access.declareQueue(queue.name);
  const label = requiredString(params, 'Label');
  if (!LABEL.test(label)) throw invalidParameter(`Value ${label} for parameter Label is invalid. Reason: Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length.`);
  const accounts = stringList(params, 'AWSAccountIds') ?? [];
  if (accounts.length === 0) throw missingParameter('AWSAccountIds');
  for (const a of accounts) if (!ACCOUNT.test(a)) throw invalidParameter(`Value ${a} for parameter AWSAccountIds is invalid. Reason: An AWS account id is 12 digits.`);
  const actions = stringList(params, 'Actions') ?? [];
  if (actions.length === 0) throw missingParameter('Actions');
  for (const a of actions) if (!GRANTABLE.has(a)) throw invalidParameter(`Value SQS:${a} for parameter ActionName is invalid. Reason: Only the queue owner is allowed to invoke this action.`);
  const arn = arnOf(door, account, queue);
  const record = recordOf(door, queue);
  const policy = policyOf(record.attributes['Policy'], `${arn}/SQSDefaultPolicy`);
  if (policy.Statement.some((s) => s.Sid === label)) throw invalidParameter(`Value ${label} for parameter Label is invalid. Reason: Already exists.`);
  const principals = accounts.map((a) => `arn:aws:iam::${a}:root`);
  const granted = actions.map((a) => `SQS:${a}`);
  policy.Statement.push({ Sid: label, Effect: 'Allow', Principal: { AWS: principals.length === 1 ? principals[0]! : principals }, Action: granted.length === 1 ? granted[0]! : granted, Resource: arn });
  door.registry.put(queue.vhost.name, queue.name, { ...record, attributes: { ...record.attributes, Policy: JSON.stringify(policy) }, modified: Math.floor(Date.now() / 1000) });
  return undefined;
};

/** RemovePermission: the statement labelled `Label` leaves the queue's Policy (the attribute goes with the last one). */
export const removePermission: ActionHandler = (door, call) => {
  const params = call.request.params;
  const { queue, access, account } = door.queueAt(call, params['QueueUrl']);
  access.declareQueue(queue.name);
  const label = requiredString(params, 'Label');
  const record = recordOf(door, queue);
  const policy = policyOf(record.attributes['Policy'], `${arnOf(door, account, queue)}/SQSDefaultPolicy`);
  const kept = policy.Statement.filter((s) => s.Sid !== label);
  if (kept.length === policy.Statement.length) throw invalidParameter(`Value ${label} for parameter Label is invalid. Reason: can't find label.`);
  const attributes = { ...record.attributes };
  if (kept.length === 0) delete attributes['Policy'];
  else attributes['Policy'] = JSON.stringify({ ...policy, Statement: kept });
  door.registry.put(queue.vhost.name, queue.name, { ...record, attributes, modified: Math.floor(Date.now() / 1000) });
  return undefined;
};
