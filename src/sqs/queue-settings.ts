import type { QueueView } from '../broker/queue-view.js';
import type { VHost } from '../broker/vhost.js';
import { parseQueueArn, queueArn } from './addresses.js';
import type { SqsDoor } from './door.js';
import { sqsError } from './errors.js';
import { DEFAULT_ATTRIBUTES, FIFO_DEFAULTS, type QueueAttributes } from './queue-attributes.js';
import type { SqsQueueRecord } from './queue-registry.js';
import { FIFO_INTERVAL_MS } from './fifo-memory.js';
import { GROUP_HEADER } from './sqs-message.js';

/** The x-arguments an SQS FIFO queue is declared with: the core's message groups and deduplication. */
export function fifoArguments(): Record<string, string | number | boolean> {
  return {
    'x-message-group-header': GROUP_HEADER,
    'x-message-deduplication': true,
    // SQS: "the deduplication interval is 5 minutes".
    'x-cache-ttl': FIFO_INTERVAL_MS,
  };
}

export function isFifo(queue: QueueView): boolean {
  return queue.name.endsWith('.fifo') && queue.arguments['x-message-group-header'] === GROUP_HEADER;
}

/** The queue's SQS record; queues made by other doors get AWS's defaults. */
export function recordOf(door: SqsDoor, queue: QueueView): SqsQueueRecord {
  const record = door.registry.get(queue.vhost.name, queue.name);
  if (record !== undefined) return record;
  const now = Math.floor(Date.now() / 1000);
  return { attributes: defaultsFor(isFifo(queue)), tags: {}, created: now, modified: now };
}

const STANDARD_DEFAULTS: Readonly<QueueAttributes> = Object.freeze({ ...DEFAULT_ATTRIBUTES });
const FIFO_QUEUE_DEFAULTS: Readonly<QueueAttributes> = Object.freeze({ ...DEFAULT_ATTRIBUTES, ...FIFO_DEFAULTS });

/** What the message actions read of a queue's attributes, parsed once per request. */
export interface MessageSettings {
  readonly fifo: boolean;
  readonly visibilitySeconds: number;
  readonly waitSeconds: number;
  readonly delaySeconds: number;
  readonly maximumMessageSize: number;
  readonly contentBasedDeduplication: boolean;
  /** DeduplicationScope messageGroup: deduplication ids count per message group. */
  readonly deduplicationPerGroup: boolean;
}

export function messageSettings(door: SqsDoor, queue: QueueView): MessageSettings {
  const fifo = isFifo(queue);
  // Queues made by other doors have no record: AWS's defaults, without building one.
  const attributes = door.registry.get(queue.vhost.name, queue.name)?.attributes ?? (fifo ? FIFO_QUEUE_DEFAULTS : STANDARD_DEFAULTS);
  const number = (name: keyof typeof DEFAULT_ATTRIBUTES): number => Number(attributes[name] ?? DEFAULT_ATTRIBUTES[name]);
  return {
    fifo,
    visibilitySeconds: number('VisibilityTimeout'),
    waitSeconds: number('ReceiveMessageWaitTimeSeconds'),
    delaySeconds: number('DelaySeconds'),
    maximumMessageSize: number('MaximumMessageSize'),
    contentBasedDeduplication: attributes['ContentBasedDeduplication'] === 'true',
    deduplicationPerGroup: attributes['DeduplicationScope'] === 'messageGroup',
  };
}

export function defaultsFor(fifo: boolean): QueueAttributes {
  return fifo ? { ...DEFAULT_ATTRIBUTES, ...FIFO_DEFAULTS } : { ...DEFAULT_ATTRIBUTES };
}

/** A parsed, checked RedrivePolicy: the dead-letter queue and the receives allowed before moving there. */
export interface Redrive {
  target: string;
  maxReceiveCount: number;
}

/** RedrivePolicy (API reference, SetQueueAttributes): JSON with deadLetterTargetArn and maxReceiveCount 1..1000. */
export function parseRedrive(door: SqsDoor, vhost: VHost, fifo: boolean, text: string): Redrive | undefined {
  if (text === '') return undefined;
  const invalid = (reason: string): Error => sqsError('InvalidParameterValue', `Value ${text} for parameter RedrivePolicy is invalid. Reason: ${reason}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw invalid('Redrive policy is not a valid JSON map.');
  }
  if (typeof parsed !== 'object' || parsed === null) throw invalid('Redrive policy is not a valid JSON map.');
  const { deadLetterTargetArn: arn, maxReceiveCount: rawCount } = parsed as Record<string, unknown>;
  if (typeof arn !== 'string') throw invalid('Redrive policy does not contain mandatory attribute: deadLetterTargetArn.');
  const count = typeof rawCount === 'string' ? Number(rawCount) : rawCount;
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > 1000) {
    throw invalid('Invalid value for maxReceiveCount: must be an integer from 1 to 1000.');
  }
  const address = parseQueueArn(door.accounts, arn);
  const target = address === undefined || address.vhost !== vhost.name ? undefined : vhost.getQueue(address.name);
  if (target === undefined) throw invalid('Dead letter target does not exist.');
  if (isFifo(target) !== fifo) throw invalid('Dead-letter queue must be same type of queue as the source.');
  return { target: target.name, maxReceiveCount: count };
}

/**
 * What the core enforces of a queue's SQS settings, as one policy of its own (`sqs:<name>`, priority
 * 1000, so a user policy matching the queue does not displace it): MessageRetentionPeriod is the
 * message TTL; RedrivePolicy is dead-lettering through the default exchange to the dead-letter queue
 * with a delivery limit of maxReceiveCount - 1 (the core dead-letters a message returned more often
 * than the limit: the maxReceiveCount-th visibility expiry moves it, as in SQS).
 */
export function applyCorePolicy(door: SqsDoor, vhost: VHost, name: string, attributes: QueueAttributes): void {
  const definition: Record<string, unknown> = { 'message-ttl': Number(attributes['MessageRetentionPeriod'] ?? DEFAULT_ATTRIBUTES['MessageRetentionPeriod']) * 1000 };
  const redrive = parseRedrive(door, vhost, name.endsWith('.fifo'), attributes['RedrivePolicy'] ?? '');
  if (redrive !== undefined) {
    definition['dead-letter-exchange'] = '';
    definition['dead-letter-routing-key'] = redrive.target;
    definition['delivery-limit'] = redrive.maxReceiveCount - 1;
  }
  vhost.policies.set(policyName(name), { pattern: `^${name.replace(/\./g, '\\.')}$`, applyTo: 'queues', priority: 1000, definition });
}

export function removeCorePolicy(vhost: VHost, name: string): void {
  vhost.policies.delete(policyName(name));
}

function policyName(queue: string): string {
  return `sqs:${queue}`;
}

export function arnOf(door: SqsDoor, account: string, queue: QueueView): string {
  return queueArn(door.accounts, account, queue.name);
}
