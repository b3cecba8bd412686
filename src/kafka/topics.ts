/**
 * Kafka topics as Warren streams, in the door's vhost (README "Kafka"):
 *
 * - a topic with one partition is a durable `x-queue-type: stream` queue named as the topic;
 * - a topic with N > 1 partitions is a super stream (RabbitMQ's naming): an `x-super-stream`
 *   exchange named as the topic, with partition streams `<topic>-<i>` bound with key `<i>` and
 *   `x-stream-partition-order: i`; partition i is the i-th binding in that order.
 *
 * So every stream an AMQP client declares is a topic too, and a super stream declared over AMQP is a
 * partitioned topic. Kafka's topic configs map onto the stream arguments: retention.ms -> x-max-age,
 * retention.bytes -> x-max-length-bytes, segment.bytes -> x-stream-max-segment-size-bytes.
 */
import type { Broker } from '../broker/broker.js';
import { BrokerError, BrokerErrorKind } from '../broker/errors.js';
import type { SessionOwner } from '../broker/front-door.js';
import { fieldNumber, fieldString, type FieldTable } from '../broker/message.js';
import type { QueueView } from '../broker/queue-view.js';
import { parseAge } from '../broker/stream/stream-arguments.js';
import { SUPER_STREAM_TYPE } from '../broker/stream/super-stream.js';
import type { VHost } from '../broker/vhost.js';
import type { StreamLog } from '../store/store.js';
import { ErrorCode } from './protocol/error-codes.js';

export interface Partition {
  readonly topic: string;
  readonly index: number;
  /** The partition's stream queue (appends go through `queue.enqueue`, so its counters count them). */
  readonly queue: QueueView;
  readonly log: StreamLog;
}

export interface Topic {
  readonly name: string;
  /** Backed by a super stream exchange (N partitions) rather than one stream queue. */
  readonly superStream: boolean;
  readonly partitions: readonly Partition[];
  /** The stream arguments of its (first) partition, for DescribeConfigs. */
  readonly arguments: FieldTable;
}

/** A Kafka error code with a message, thrown by topic operations and answered per topic. */
export class TopicError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** Kafka's legal topic names: [a-zA-Z0-9._-], 1 to 249 characters, not "." or "..". */
export function validTopicName(name: string): boolean {
  return /^[a-zA-Z0-9._-]{1,249}$/.test(name) && name !== '.' && name !== '..';
}

export class KafkaTopics {
  constructor(
    private readonly broker: Broker,
    private readonly vhostName: string,
  ) {}

  vhost(): VHost | undefined {
    return this.broker.vhosts.get(this.vhostName);
  }

  find(name: string): Topic | undefined {
    const vhost = this.vhost();
    if (vhost === undefined) return undefined;
    const exchange = vhost.getExchange(name);
    if (exchange !== undefined && exchange.exchangeType.name === SUPER_STREAM_TYPE) {
      const ordered = [...exchange.bindings.values()]
        .filter((b) => b.destination.kind === 'queue')
        .sort((a, b) => (fieldNumber(a.arguments['x-stream-partition-order']) ?? Number.MAX_SAFE_INTEGER) - (fieldNumber(b.arguments['x-stream-partition-order']) ?? Number.MAX_SAFE_INTEGER) || (a.routingKey < b.routingKey ? -1 : 1));
      const partitions: Partition[] = [];
      for (const binding of ordered) {
        const queue: QueueView = vhost.getQueue(binding.destination.name)!;
        const log = queue.streamLog?.();
        if (log === undefined) continue;
        partitions.push({ topic: name, index: partitions.length, queue, log });
      }
      if (partitions.length === 0) return undefined;
      return { name, superStream: true, partitions, arguments: partitions[0]!.queue.arguments };
    }
    const queue: QueueView | undefined = vhost.getQueue(name);
    const log = queue?.streamLog?.();
    if (queue === undefined || log === undefined || queue.deleted) return undefined;
    return { name, superStream: false, partitions: [{ topic: name, index: 0, queue, log }], arguments: queue.arguments };
  }

  partition(topic: string, index: number): Partition | undefined {
    return this.find(topic)?.partitions[index];
  }

  /** Every topic: super streams, then the stream queues that are not one of their partitions. */
  list(): Topic[] {
    const vhost = this.vhost();
    if (vhost === undefined) return [];
    const topics: Topic[] = [];
    const partitionQueues = new Set<string>();
    for (const exchange of vhost.exchanges.values()) {
      if (exchange.exchangeType.name !== SUPER_STREAM_TYPE) continue;
      const topic = this.find(exchange.name);
      if (topic === undefined) continue;
      topics.push(topic);
      for (const partition of topic.partitions) partitionQueues.add(partition.queue.name);
    }
    for (const queue of vhost.queues.values()) {
      if (partitionQueues.has(queue.name) || !queue.appendOnly || vhost.getExchange(queue.name)?.exchangeType.name === SUPER_STREAM_TYPE) continue;
      const topic = this.find(queue.name);
      if (topic !== undefined) topics.push(topic);
    }
    return topics.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /**
   * CreateTopics: one stream, or a super stream of `partitions` streams. `configs` are Kafka topic
   * configs (unknown ones are refused with INVALID_CONFIG, as Kafka does).
   */
  create(name: string, partitions: number, configs: ReadonlyMap<string, string | null>, owner: SessionOwner, validateOnly = false): Topic {
    const vhost = this.vhost();
    if (vhost === undefined) throw new TopicError(ErrorCode.UNKNOWN_SERVER_ERROR, `vhost '${this.vhostName}' does not exist`);
    if (!validTopicName(name)) throw new TopicError(ErrorCode.INVALID_TOPIC_EXCEPTION, `'${name}' is not a legal topic name`);
    if (!Number.isInteger(partitions) || partitions < 1 || partitions > 1000) throw new TopicError(ErrorCode.INVALID_PARTITIONS, `number of partitions must be 1 to 1000, not ${partitions}`);
    if (this.find(name) !== undefined || vhost.getQueue(name) !== undefined || vhost.getExchange(name) !== undefined) {
      throw new TopicError(ErrorCode.TOPIC_ALREADY_EXISTS, `Topic '${name}' already exists.`);
    }
    const args = streamArguments(configs);
    if (validateOnly) return { name, superStream: partitions > 1, partitions: [], arguments: args };
    try {
      if (partitions === 1) {
        vhost.declareQueue({ name, durable: true, exclusive: false, autoDelete: false, arguments: args }, owner);
      } else {
        for (let i = 0; i < partitions; i++) {
          if (vhost.getQueue(`${name}-${i}`) !== undefined) throw new TopicError(ErrorCode.TOPIC_ALREADY_EXISTS, `queue '${name}-${i}' already exists`);
        }
        vhost.declareExchange({ name, type: SUPER_STREAM_TYPE, durable: true, autoDelete: false, internal: false, arguments: {} });
        for (let i = 0; i < partitions; i++) {
          vhost.declareQueue({ name: `${name}-${i}`, durable: true, exclusive: false, autoDelete: false, arguments: args }, owner);
          vhost.bindQueue(`${name}-${i}`, name, String(i), { 'x-stream-partition-order': i }, owner);
        }
      }
    } catch (error) {
      throw asTopicError(error);
    }
    const topic = this.find(name);
    if (topic === undefined) throw new TopicError(ErrorCode.UNKNOWN_SERVER_ERROR, `topic '${name}' was declared but is not a stream`);
    return topic;
  }

  /** DeleteTopics: the stream, or the super stream's exchange and partition streams. */
  delete(name: string, owner: SessionOwner): void {
    const topic = this.find(name);
    const vhost = this.vhost();
    if (topic === undefined || vhost === undefined) throw new TopicError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `topic '${name}' does not exist`);
    try {
      for (const partition of topic.partitions) vhost.deleteQueue(partition.queue.name, { ifUnused: false, ifEmpty: false }, owner);
      if (topic.superStream) vhost.deleteExchange(name, false);
    } catch (error) {
      throw asTopicError(error);
    }
  }
}

/** Kafka topic configs -> stream queue arguments. */
export function streamArguments(configs: ReadonlyMap<string, string | null>): FieldTable {
  const args: FieldTable = { 'x-queue-type': 'stream' };
  for (const [key, value] of configs) {
    if (value === null) continue;
    const n = Number(value);
    switch (key) {
      case 'retention.ms':
        if (!Number.isInteger(n) || n < -1 || n === 0) throw new TopicError(ErrorCode.INVALID_CONFIG, `Invalid value ${value} for configuration retention.ms`);
        if (n > 0) args['x-max-age'] = `${Math.max(1, Math.ceil(n / 1000))}s`;
        break;
      case 'retention.bytes':
        if (!Number.isInteger(n) || n < -1 || n === 0) throw new TopicError(ErrorCode.INVALID_CONFIG, `Invalid value ${value} for configuration retention.bytes`);
        if (n > 0) args['x-max-length-bytes'] = n;
        break;
      case 'segment.bytes':
        if (!Number.isInteger(n) || n < 14) throw new TopicError(ErrorCode.INVALID_CONFIG, `Invalid value ${value} for configuration segment.bytes`);
        args['x-stream-max-segment-size-bytes'] = n;
        break;
      // Accepted and meaningless for a single-node log: the stream is one replica, compaction is not offered.
      case 'cleanup.policy':
        if (value !== 'delete') throw new TopicError(ErrorCode.INVALID_CONFIG, `cleanup.policy=${value} is not supported (only delete)`);
        break;
      case 'min.insync.replicas':
      case 'compression.type':
      case 'message.timestamp.type':
      case 'max.message.bytes':
        break;
      default:
        throw new TopicError(ErrorCode.INVALID_CONFIG, `Unknown topic config name: ${key}`);
    }
  }
  return args;
}

/** A stream's arguments as Kafka topic configs (DescribeConfigs): value and whether it is the default. */
export function topicConfigs(args: FieldTable): Array<{ name: string; value: string; isDefault: boolean }> {
  const age = fieldString(args['x-max-age']);
  const ageMs = age === undefined ? undefined : parseAge(age);
  const bytes = fieldNumber(args['x-max-length-bytes']);
  const segment = fieldNumber(args['x-stream-max-segment-size-bytes']);
  return [
    { name: 'retention.ms', value: String(ageMs ?? -1), isDefault: ageMs === undefined },
    { name: 'retention.bytes', value: String(bytes ?? -1), isDefault: bytes === undefined },
    // The stream log's default segment size is RabbitMQ's 500 MB.
    { name: 'segment.bytes', value: String(segment ?? 500_000_000), isDefault: segment === undefined },
    { name: 'cleanup.policy', value: 'delete', isDefault: true },
    { name: 'message.timestamp.type', value: 'CreateTime', isDefault: true },
    { name: 'min.insync.replicas', value: '1', isDefault: true },
  ];
}

/** The core's error kinds as Kafka codes. */
export function asTopicError(error: unknown): TopicError {
  if (error instanceof TopicError) return error;
  if (error instanceof BrokerError) {
    switch (error.kind) {
      case BrokerErrorKind.AccessRefused:
        return new TopicError(ErrorCode.TOPIC_AUTHORIZATION_FAILED, error.message);
      case BrokerErrorKind.NotFound:
        return new TopicError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, error.message);
      case BrokerErrorKind.PreconditionFailed:
      case BrokerErrorKind.InvalidArgument:
        return new TopicError(ErrorCode.INVALID_CONFIG, error.message);
      case BrokerErrorKind.ResourceLocked:
        return new TopicError(ErrorCode.POLICY_VIOLATION, error.message);
      default:
        return new TopicError(ErrorCode.UNKNOWN_SERVER_ERROR, error.message);
    }
  }
  return new TopicError(ErrorCode.UNKNOWN_SERVER_ERROR, String(error));
}
