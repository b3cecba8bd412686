/**
 * queue.declare x-arguments: parsed once into QueueSettings, validated with RabbitMQ's rules and reply
 * texts (rabbit_amqqueue:check_declare_arguments; the DLX type check of rabbit_channel comes first).
 * The error detail is the Erlang term RabbitMQ prints with ~p, e.g. "{value_negative,-1}".
 */
import { fieldTypeName } from '../arguments.js';
import { preconditionFailed } from '../errors.js';
import { fieldNumber, type FieldTable, type FieldValue } from '../message.js';

export type Overflow = 'drop-head' | 'reject-publish' | 'reject-publish-dlx';

/**
 * x-queue-type. A quorum queue is replicated in RabbitMQ; on one node Warren gives it a durable classic
 * queue's behaviour for now, with the declare rules of a quorum queue (assertQueueTypeAllows).
 */
export type QueueType = 'classic' | 'quorum' | 'stream';

export interface DeduplicationSettings {
  /** ms an id is remembered (x-cache-ttl); undefined: while a message with it is in the queue. */
  cacheTtl: number | undefined;
  /** Most ids remembered (x-cache-size); oldest forgotten first. */
  cacheSize: number | undefined;
}

export interface QueueSettings {
  queueType: QueueType;
  messageTtl: number | undefined;
  expires: number | undefined;
  deadLetterExchange: string | undefined;
  deadLetterRoutingKey: string | undefined;
  maxLength: number | undefined;
  maxLengthBytes: number | undefined;
  overflow: Overflow;
  /** 1..255; undefined (or 0 given) = no priorities. */
  maxPriority: number | undefined;
  singleActiveConsumer: boolean;
  deliveryLimit: number | undefined;
  /** x-consumer-timeout in ms; undefined = the broker default. 0 = off. */
  consumerTimeout: number | undefined;
  deduplication: DeduplicationSettings | undefined;
  messageGroupHeader: string | undefined;
  /** x-message-group-max-in-flight: unacked messages of one group at once (default in message-groups.ts). */
  messageGroupMaxInFlight: number | undefined;
}

/** rabbit_misc's ?MAX_EXPIRY_TIMER (the largest Erlang timer) and ?MAX_SUPPORTED_PRIORITY. */
export const MAX_EXPIRY = 4294967295;
export const MAX_PRIORITY = 255;

const INTEGER_TYPES = new Set(['byte', 'unsignedbyte', 'short', 'unsignedshort', 'signedint', 'unsignedint', 'long']);
const OVERFLOW_MODES: readonly string[] = ['drop-head', 'reject-publish', 'reject-publish-dlx'];

/** A rejected value: the Erlang term RabbitMQ would print. */
class InvalidArgument {
  constructor(readonly term: string) {}
}

type Check<T> = (value: FieldValue, args: FieldTable) => T | InvalidArgument;

const unacceptableType = (value: FieldValue): InvalidArgument =>
  new InvalidArgument(`{unacceptable_type,${fieldTypeName(value)}}`);

const integer: Check<number> = (value) => {
  if (!INTEGER_TYPES.has(fieldTypeName(value))) return unacceptableType(value);
  return fieldNumber(value)!;
};

const nonNegative: Check<number> = (value, args) => {
  const n = integer(value, args);
  if (n instanceof InvalidArgument) return n;
  return n < 0 ? new InvalidArgument(`{value_negative,${n}}`) : n;
};

/** rabbit_misc:check_expiry */
const expiry: Check<number> = (value, args) => {
  const n = integer(value, args);
  if (n instanceof InvalidArgument) return n;
  if (n > MAX_EXPIRY) return new InvalidArgument(`{value_too_large,${n}}`);
  return n < 0 ? new InvalidArgument(`{value_negative,${n}}`) : n;
};

const expires: Check<number> = (value, args) => {
  const n = integer(value, args);
  if (n === 0) return new InvalidArgument('{value_zero,0}');
  return n instanceof InvalidArgument ? n : expiry(value, args);
};

const boolean: Check<boolean> = (value) => (typeof value === 'boolean' ? value : unacceptableType(value));

const longString: Check<string> = (value) => (typeof value === 'string' ? value : unacceptableType(value));

const deadLetterRoutingKey: Check<string> = (value, args) => {
  if (typeof value !== 'string') return unacceptableType(value);
  return args['x-dead-letter-exchange'] === undefined ? new InvalidArgument('routing_key_but_no_dlx_defined') : value;
};

const maxPriority: Check<number> = (value, args) => {
  const n = nonNegative(value, args);
  if (n instanceof InvalidArgument) return n;
  return n > MAX_PRIORITY ? new InvalidArgument(`{max_value_exceeded,${n}}`) : n;
};

const overflow: Check<Overflow> = (value) => {
  if (typeof value !== 'string') return unacceptableType(value);
  return OVERFLOW_MODES.includes(value) ? (value as Overflow) : new InvalidArgument('invalid_overflow');
};

const positive: Check<number> = (value, args) => {
  const n = nonNegative(value, args);
  return n === 0 ? new InvalidArgument('{value_zero,0}') : n;
};

/** rabbit_amqqueue:check_queue_type (3.10): its error is a string, which ~p prints quoted. */
const queueType: Check<QueueType> = (value) => {
  if (typeof value !== 'string') return unacceptableType(value);
  if (value === 'classic' || value === 'quorum' || value === 'stream') return value;
  return new InvalidArgument(`"unsupported queue type '${value.replace(/["\\]/g, '\\$&')}'"`);
};

const headerName: Check<string> = (value) => {
  if (typeof value !== 'string') return unacceptableType(value);
  return value === '' ? new InvalidArgument('{value_empty,<<>>}') : value;
};

/**
 * Validates and parses. Throws 406 "invalid arg 'x-message-ttl' for queue 'q' in vhost '/':
 * {value_negative,-1}" on the first bad argument, checking in RabbitMQ's order (x-queue-type first:
 * the other checks depend on the type in RabbitMQ 3.10).
 */
export function parseQueueArguments(args: FieldTable, resource: string): QueueSettings {
  const dlx = args['x-dead-letter-exchange'];
  if (dlx !== undefined && typeof dlx !== 'string') {
    throw preconditionFailed(`invalid type '${fieldTypeName(dlx)}' for arg 'x-dead-letter-exchange' in ${resource}`);
  }
  const read = <T>(key: string, check: Check<T>): T | undefined => {
    const value = args[key];
    if (value === undefined) return undefined;
    const parsed = check(value, args);
    if (parsed instanceof InvalidArgument) throw preconditionFailed(`invalid arg '${key}' for ${resource}: ${parsed.term}`);
    return parsed;
  };
  const type = read('x-queue-type', queueType) ?? 'classic';
  const settings: QueueSettings = {
    queueType: type,
    expires: read('x-expires', expires),
    messageTtl: read('x-message-ttl', expiry),
    deadLetterExchange: read('x-dead-letter-exchange', longString),
    deadLetterRoutingKey: read('x-dead-letter-routing-key', deadLetterRoutingKey),
    maxLength: read('x-max-length', nonNegative),
    maxLengthBytes: read('x-max-length-bytes', nonNegative),
    maxPriority: read('x-max-priority', maxPriority) || undefined,
    overflow: read('x-overflow', overflow) ?? 'drop-head',
    singleActiveConsumer: read('x-single-active-consumer', boolean) ?? false,
    deliveryLimit: read('x-delivery-limit', nonNegative),
    consumerTimeout: read('x-consumer-timeout', expiry),
    deduplication: undefined,
    messageGroupHeader: read('x-message-group-header', headerName),
    messageGroupMaxInFlight: read('x-message-group-max-in-flight', positive),
  };
  const cacheTtl = read('x-cache-ttl', expiry);
  const cacheSize = read('x-cache-size', positive);
  if (read('x-message-deduplication', boolean) === true) settings.deduplication = { cacheTtl, cacheSize };
  return settings;
}

/** What queue.declare says of a queue besides its arguments. */
export interface QueueProperties {
  readonly durable: boolean;
  readonly autoDelete: boolean;
  readonly exclusive: boolean;
}

/**
 * A quorum queue or a stream must be durable, not exclusive and not auto-delete: rabbit_quorum_queue's
 * and rabbit_stream_queue's declare checks (rabbit_queue_type_util), in their order, with their texts.
 */
export function assertQueueTypeAllows(type: QueueType, properties: QueueProperties, resource: string): void {
  if (type === 'classic') return;
  const refused = (property: string) => preconditionFailed(`invalid property '${property}' for ${resource}`);
  if (properties.autoDelete) throw refused('auto-delete');
  if (properties.exclusive) throw refused('exclusive-owner');
  if (!properties.durable) throw refused('non-durable');
}

/** The settings of a queue declared without arguments (and of the direct reply-to pseudo queue). */
export const PLAIN_QUEUE: Readonly<QueueSettings> = Object.freeze(parseQueueArguments({}, ''));
