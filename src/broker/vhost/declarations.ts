import type { Logger } from 'pino';
import type { ExchangeTypeRegistry } from '../exchanges/registry.js';
import type { FieldTable } from '../message.js';
import type { DefinitionObserver } from '../persistence/definitions.js';
import type { DurableStoreAccess } from '../queue/durable-messages.js';
import type { ReadPacer } from '../stream/read-pacer.js';
import type { StreamLogAccess } from '../stream/stream-queue.js';
import type { QueuePlacement } from '../queue-placement.js';

/** What a vhost is asked for and answers with, what it is given, and the fixed rules it applies. */

export interface ExchangeDeclare {
  name: string;
  type: string;
  durable: boolean;
  autoDelete: boolean;
  internal: boolean;
  arguments: FieldTable;
}

export interface QueueDeclare {
  name: string;
  durable: boolean;
  exclusive: boolean;
  autoDelete: boolean;
  arguments: FieldTable;
}

export interface PublishOutcome {
  /** Number of queues (and direct reply-to consumers) that took the message; 0 = unroutable. */
  readonly routed: number;
  /** A queue refused the message (x-overflow reject-publish): the publisher gets basic.nack. */
  readonly refused: boolean;
}

export interface BrokerLimits {
  /** Per vhost. */
  maxQueues: number;
  /** Per vhost, not counting the predeclared ones. */
  maxExchanges: number;
  /**
   * Default consumer timeout in ms for queues without x-consumer-timeout: an unacked delivery older
   * than this is taken back and requeued. 0 = off (the default).
   */
  consumerTimeoutMs: number;
}

/** What a VHost needs from its Broker. */
export interface VHostContext {
  readonly exchangeTypes: ExchangeTypeRegistry;
  readonly limits: BrokerLimits;
  readonly logger: Logger;
  /** Told about every topology change; records the durable ones (persistence/definitions.ts). */
  readonly definitions: DefinitionObserver;
  /** Where durable queues write persistent messages; undefined while nothing is persisted. */
  readonly durableStore: DurableStoreAccess | undefined;
  /** A cluster's say in where queues live (broker/queue-placement.ts); undefined for a single broker. */
  readonly placement: QueuePlacement | undefined;
  /** Where stream queues keep their logs (the broker's store, once open). */
  readonly streamLogs: StreamLogAccess | undefined;
  /** Told of every publish, so that stream readers replaying old data give way to writers. */
  readonly readPacer: ReadPacer;
}

/** Outcomes are immutable, so the common ones are shared instead of allocated per publish. */
export const sharedOutcomes: PublishOutcome[] = Array.from({ length: 64 }, (_, routed) =>
  Object.freeze({ routed, refused: false }),
);
export function outcome(routed: number, refused: boolean): PublishOutcome {
  if (!refused && routed < sharedOutcomes.length) return sharedOutcomes[routed]!;
  return { routed, refused };
}

/** x-arguments that are part of a queue's identity (RabbitMQ's declare-time equivalence list). */
export const QUEUE_IDENTITY_ARGUMENTS = [
  'x-expires',
  'x-message-ttl',
  'x-dead-letter-exchange',
  'x-dead-letter-routing-key',
  'x-dead-letter-strategy',
  'x-max-length',
  'x-max-length-bytes',
  'x-max-priority',
  'x-overflow',
  'x-queue-mode',
  'x-queue-type',
  'x-queue-version',
  'x-single-active-consumer',
  'x-delivery-limit',
  'x-max-age',
] as const;
export const QUEUE_ARGUMENT_DEFAULTS = { 'x-queue-type': 'classic' };

/** The exchanges every vhost starts with (RabbitMQ's set), all durable. */
export const PREDECLARED_EXCHANGES: readonly (readonly [name: string, type: string, internal: boolean])[] = [
  ['', 'direct', false],
  ['amq.direct', 'direct', false],
  ['amq.fanout', 'fanout', false],
  ['amq.topic', 'topic', false],
  ['amq.headers', 'headers', false],
  ['amq.match', 'headers', false],
  ['amq.rabbitmq.trace', 'topic', true],
];

export const DEFAULT_EXCHANGE_REFUSED = 'operation not permitted on the default exchange';
