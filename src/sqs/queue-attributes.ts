import { invalidParameter, sqsError } from './errors.js';

/**
 * SQS queue attributes (API reference, SetQueueAttributes / CreateQueue "Attributes"): which exist,
 * which are read-only, their defaults and their ranges. Values are kept as SQS shows them: strings.
 */
export type QueueAttributes = Record<string, string>;

/** AWS's defaults. MaximumMessageSize: 1 MiB, AWS's default and maximum since August 2025. */
export const DEFAULT_ATTRIBUTES: Readonly<QueueAttributes> = {
  DelaySeconds: '0',
  MaximumMessageSize: '1048576',
  MessageRetentionPeriod: '345600',
  ReceiveMessageWaitTimeSeconds: '0',
  VisibilityTimeout: '30',
  SqsManagedSseEnabled: 'true',
};
export const FIFO_DEFAULTS: Readonly<QueueAttributes> = {
  ContentBasedDeduplication: 'false',
  DeduplicationScope: 'queue',
  FifoThroughputLimit: 'perQueue',
};

type Check = (value: string, name: string) => void;

const integer =
  (min: number, max: number): Check =>
  (value, name) => {
    if (!/^-?\d+$/.test(value) || Number(value) < min || Number(value) > max) {
      throw sqsError('InvalidAttributeValue', `Invalid value for the parameter ${name}. Reason: must be an integer between ${min} and ${max}.`);
    }
  };
const boolean: Check = (value, name) => {
  if (value !== 'true' && value !== 'false') throw sqsError('InvalidAttributeValue', `Invalid value for the parameter ${name}. Reason: must be true or false.`);
};
const oneOf =
  (...allowed: string[]): Check =>
  (value, name) => {
    if (!allowed.includes(value)) throw sqsError('InvalidAttributeValue', `Invalid value for the parameter ${name}. Reason: must be one of ${allowed.join(', ')}.`);
  };
const json: Check = (value, name) => {
  try {
    const parsed: unknown = JSON.parse(value);
    if (typeof parsed !== 'object' || parsed === null) throw new Error('not an object');
  } catch {
    throw sqsError('InvalidAttributeValue', `Invalid value for the parameter ${name}. Reason: must be a JSON object.`);
  }
};
const anyString: Check = () => undefined;

/** Settable attributes (both CreateQueue and SetQueueAttributes) and their checks. */
const SETTABLE: Record<string, Check> = {
  DelaySeconds: integer(0, 900),
  MaximumMessageSize: integer(1024, 1048576),
  MessageRetentionPeriod: integer(60, 1209600),
  ReceiveMessageWaitTimeSeconds: integer(0, 20),
  VisibilityTimeout: integer(0, 43200),
  Policy: json,
  RedrivePolicy: anyString, // checked by redrive.ts (it needs the target queue)
  RedriveAllowPolicy: anyString, // likewise
  KmsMasterKeyId: anyString,
  KmsDataKeyReusePeriodSeconds: integer(60, 86400),
  SqsManagedSseEnabled: boolean,
};
const FIFO_ONLY: Record<string, Check> = {
  ContentBasedDeduplication: boolean,
  DeduplicationScope: oneOf('messageGroup', 'queue'),
  FifoThroughputLimit: oneOf('perQueue', 'perMessageGroupId'),
};
/** Computed when asked for; never set. */
export const READ_ONLY = [
  'ApproximateNumberOfMessages',
  'ApproximateNumberOfMessagesNotVisible',
  'ApproximateNumberOfMessagesDelayed',
  'CreatedTimestamp',
  'LastModifiedTimestamp',
  'QueueArn',
] as const;
export const ALL_NAMES: ReadonlySet<string> = new Set([...Object.keys(SETTABLE), ...Object.keys(FIFO_ONLY), ...READ_ONLY, 'FifoQueue']);

/** Validates attributes given to CreateQueue or SetQueueAttributes; `creating` allows FifoQueue. */
export function validateAttributes(raw: unknown, fifo: boolean, creating: boolean): QueueAttributes {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw invalidParameter('Attributes must be a map.');
  const out: QueueAttributes = {};
  for (const [name, value] of Object.entries(raw as Record<string, unknown>)) {
    const text = typeof value === 'string' ? value : typeof value === 'number' || typeof value === 'boolean' ? String(value) : undefined;
    if (text === undefined) throw sqsError('InvalidAttributeValue', `Invalid value for the parameter ${name}.`);
    if (name === 'FifoQueue' && creating) {
      if (text !== String(fifo)) throw sqsError('InvalidAttributeValue', 'Invalid value for the parameter FifoQueue. Reason: the queue name must end with .fifo exactly when FifoQueue is true.');
      continue;
    }
    const check = SETTABLE[name] ?? (fifo ? FIFO_ONLY[name] : undefined);
    if (check === undefined) throw sqsError('InvalidAttributeName', `Unknown Attribute ${name}.`);
    check(text, name);
    out[name] = text;
  }
  return out;
}

/** Attribute names of a GetQueueAttributes call ('All': all of them; none: none); unknown ones are errors. */
export function requestedNames(raw: unknown): Set<string> | 'all' {
  if (raw === undefined || raw === null) return new Set();
  if (!Array.isArray(raw)) throw invalidParameter('AttributeNames must be a list.');
  const names = new Set<string>();
  for (const name of raw) {
    if (name === 'All') return 'all';
    if (typeof name !== 'string' || !ALL_NAMES.has(name)) throw sqsError('InvalidAttributeName', `Unknown Attribute ${String(name)}.`);
    names.add(name);
  }
  return names;
}
