/**
 * The broker's vocabulary of failure, by meaning. The core throws a `BrokerError` of one kind with the
 * names at fault; each front door maps kinds to its own codes and scopes at its edge (amqp/errors.ts:
 * AMQP reply codes and channel-or-connection; http/errors.ts: statuses and RabbitMQ's JSON shape; later
 * doors: SQS error types, Kafka error codes, MQTT reason codes, STOMP ERROR frames). The message is
 * the text a client sees after the door's own prefix, so it reads as RabbitMQ's reply texts do
 * ("no queue 'q' in vhost '/'").
 */

export const BrokerErrorKind = {
  /** A named queue, exchange, vhost, user or message does not exist. */
  NotFound: 'not-found',
  /** The user may not do this (permissions, reserved names, the default exchange). */
  AccessRefused: 'access-refused',
  /** Someone else holds it exclusively (an exclusive queue of another connection). */
  ResourceLocked: 'resource-locked',
  /** The request conflicts with what exists or is not allowed in this state (inequivalent arguments, bad x-arguments, limits). */
  PreconditionFailed: 'precondition-failed',
  /** The request names something this broker does not know how to do (an unknown exchange type). */
  InvalidArgument: 'invalid-argument',
  /** Valid, but not implemented by Warren. */
  NotImplemented: 'not-implemented',
  /** The broker lacks a resource (disk space, a data dir in use). */
  ResourceError: 'resource-error',
  /** A failure inside the broker (storage): nothing the client did. */
  InternalError: 'internal-error',
} as const;
export type BrokerErrorKind = (typeof BrokerErrorKind)[keyof typeof BrokerErrorKind];

/** The entity an error is about, for doors that name it in their own way (SQS's NonExistentQueue). */
export interface ErrorSubject {
  readonly kind: 'queue' | 'exchange' | 'vhost' | 'user' | 'binding' | 'policy' | 'consumer' | 'message';
  readonly name: string;
  readonly vhost?: string;
}

/** Base of every error the broker core raises on purpose. */
export class BrokerError extends Error {
  constructor(
    readonly kind: BrokerErrorKind,
    message: string,
    readonly subject?: ErrorSubject,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'BrokerError';
  }
}

/** Quotes a resource as RabbitMQ does in reply texts: "queue 'jobs' in vhost '/'". */
export function describeResource(kind: 'queue' | 'exchange', name: string, vhost: string): string {
  return `${kind} '${name}' in vhost '${vhost}'`;
}

export const notFound = (kind: 'queue' | 'exchange', name: string, vhost: string): BrokerError =>
  new BrokerError(BrokerErrorKind.NotFound, `no ${describeResource(kind, name, vhost)}`, { kind, name, vhost });

export const preconditionFailed = (message: string, subject?: ErrorSubject): BrokerError =>
  new BrokerError(BrokerErrorKind.PreconditionFailed, message, subject);

export const accessRefused = (message: string, subject?: ErrorSubject): BrokerError =>
  new BrokerError(BrokerErrorKind.AccessRefused, message, subject);

export const resourceLocked = (message: string, subject?: ErrorSubject): BrokerError =>
  new BrokerError(BrokerErrorKind.ResourceLocked, message, subject);

/** An exchange type nobody registered (RabbitMQ: "invalid exchange type 'x'"). */
export const unknownExchangeType = (type: string): BrokerError =>
  new BrokerError(BrokerErrorKind.InvalidArgument, `invalid exchange type '${type}'`);

export const notImplemented = (message: string): BrokerError => new BrokerError(BrokerErrorKind.NotImplemented, message);
