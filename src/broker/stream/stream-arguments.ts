/**
 * x-arguments of stream queues (x-queue-type: stream), with RabbitMQ 3.10's rules and reply texts
 * (rabbit_stream_queue capabilities and its x-max-age parser), checked against a real RabbitMQ 3.10.
 */
import { preconditionFailed } from '../errors.js';
import { fieldTypeName } from '../arguments.js';
import { fieldNumber, type FieldTable } from '../message.js';

export interface StreamSettings {
  /** x-max-length-bytes: retention by size (whole segments). */
  readonly maxBytes: number | undefined;
  /** x-max-age in ms: retention by age (whole segments). */
  readonly maxAgeMs: number | undefined;
  /** x-stream-max-segment-size-bytes; undefined = the store's default (500 MB, as RabbitMQ). */
  readonly segmentBytes: number | undefined;
  /**
   * x-single-active-consumer: of the consumers sharing a name (x-stream-consumer-name; unnamed ones share
   * one group) only the first reads; when it goes, the next takes over from the group's stored offset.
   */
  readonly singleActiveConsumer: boolean;
}

/** Queue arguments a stream accepts; any other argument RabbitMQ knows is refused for a stream. */
const STREAM_ARGUMENTS = new Set([
  'x-queue-type',
  'x-max-length-bytes',
  'x-max-age',
  'x-stream-max-segment-size-bytes',
  'x-queue-leader-locator',
  'x-initial-cluster-size',
  'x-single-active-consumer',
]);

/** The queue arguments RabbitMQ checks (others are ignored, streams or not). */
const KNOWN_ARGUMENTS = [
  'x-expires',
  'x-message-ttl',
  'x-dead-letter-exchange',
  'x-dead-letter-routing-key',
  'x-max-length',
  'x-max-priority',
  'x-overflow',
  'x-delivery-limit',
  'x-consumer-timeout',
  'x-queue-mode',
  'x-queue-master-locator',
  'x-quorum-initial-group-size',
  'x-dead-letter-strategy',
  'x-message-group-header',
  'x-message-group-max-in-flight',
  'x-message-deduplication',
  'x-cache-ttl',
  'x-cache-size',
];

const AGE_UNITS_MS: Record<string, number> = {
  Y: 365 * 86_400_000,
  M: 30 * 86_400_000,
  D: 86_400_000,
  h: 3_600_000,
  m: 60_000,
  s: 1000,
};

/** "7D", "12h", "30m", "10s", "1Y", "6M" in ms; undefined when it is not of that form. */
export function parseAge(text: string): number | undefined {
  const match = /^([0-9]+)([YMDhms])$/.exec(text);
  if (match === null) return undefined;
  return Number(match[1]) * AGE_UNITS_MS[match[2]!]!;
}

/** Validates a stream's arguments (after the common checks of parseQueueArguments). */
export function parseStreamArguments(args: FieldTable, resource: string): StreamSettings {
  for (const key of KNOWN_ARGUMENTS) {
    if (args[key] !== undefined && !STREAM_ARGUMENTS.has(key)) {
      throw preconditionFailed(`invalid arg '${key}' for ${resource} of queue type rabbit_stream_queue`);
    }
  }
  const age = args['x-max-age'];
  let maxAgeMs: number | undefined;
  if (age !== undefined) {
    maxAgeMs = typeof age === 'string' ? parseAge(age) : undefined;
    if (maxAgeMs === undefined) throw preconditionFailed(`invalid arg 'x-max-age' for ${resource}: invalid_max_age`);
  }
  const segment = args['x-stream-max-segment-size-bytes'];
  let segmentBytes: number | undefined;
  if (segment !== undefined) {
    segmentBytes = fieldNumber(segment);
    if (segmentBytes === undefined || !Number.isInteger(segmentBytes) || segmentBytes <= 0) {
      throw preconditionFailed(`invalid arg 'x-stream-max-segment-size-bytes' for ${resource}: {unacceptable_type,${fieldTypeName(segment)}}`);
    }
  }
  return { maxBytes: fieldNumber(args['x-max-length-bytes']), maxAgeMs, segmentBytes, singleActiveConsumer: args['x-single-active-consumer'] === true };
}
