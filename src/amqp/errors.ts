/**
 * AMQP 0-9-1 reply codes and the errors that carry them, and the mapping of the core's errors (by
 * meaning, src/broker/errors.ts) onto them at this door.
 *
 * Two classes, as the spec splits them: a soft (channel) error closes only the channel; a hard
 * (connection) error closes the whole connection. The types keep a channel close from ever carrying a
 * connection-level code.
 */
import { BrokerError, BrokerErrorKind } from '../broker/errors.js';

/** Spec 0-9-1 "soft errors": the channel is closed, the connection survives. */
export const ChannelReplyCode = {
  ContentTooLarge: 311,
  NoRoute: 312,
  NoConsumers: 313,
  AccessRefused: 403,
  NotFound: 404,
  ResourceLocked: 405,
  PreconditionFailed: 406,
} as const;
export type ChannelReplyCode = (typeof ChannelReplyCode)[keyof typeof ChannelReplyCode];

/** Spec 0-9-1 "hard errors": the whole connection is closed. */
export const ConnectionReplyCode = {
  ConnectionForced: 320,
  InvalidPath: 402,
  AccessRefused: 403,
  FrameError: 501,
  SyntaxError: 502,
  CommandInvalid: 503,
  ChannelError: 504,
  UnexpectedFrame: 505,
  ResourceError: 506,
  NotAllowed: 530,
  NotImplemented: 540,
  InternalError: 541,
} as const;
export type ConnectionReplyCode = (typeof ConnectionReplyCode)[keyof typeof ConnectionReplyCode];

export const ReplySuccess = 200;

/** Spec names, as RabbitMQ prints them in reply texts ("NOT_FOUND - no queue 'q' in vhost '/'"). */
const replyNames: Record<number, string> = {
  200: 'REPLY_SUCCESS',
  311: 'CONTENT_TOO_LARGE',
  312: 'NO_ROUTE',
  313: 'NO_CONSUMERS',
  320: 'CONNECTION_FORCED',
  402: 'INVALID_PATH',
  403: 'ACCESS_REFUSED',
  404: 'NOT_FOUND',
  405: 'RESOURCE_LOCKED',
  406: 'PRECONDITION_FAILED',
  501: 'FRAME_ERROR',
  502: 'SYNTAX_ERROR',
  503: 'COMMAND_INVALID',
  504: 'CHANNEL_ERROR',
  505: 'UNEXPECTED_FRAME',
  506: 'RESOURCE_ERROR',
  530: 'NOT_ALLOWED',
  540: 'NOT_IMPLEMENTED',
  541: 'INTERNAL_ERROR',
};

export function replyName(code: number): string {
  return replyNames[code] ?? `REPLY_${code}`;
}

/** An error as this door sends it: a reply code and RabbitMQ's reply-text shape. */
export abstract class AmqpError extends Error {
  abstract readonly replyCode: number;
  /** "NOT_FOUND - no queue 'q' in vhost '/'": RabbitMQ's reply-text shape. */
  get replyText(): string {
    return `${replyName(this.replyCode)} - ${this.message}`;
  }
}

/** Closes the channel that caused it. */
export class ChannelError extends AmqpError {
  constructor(
    readonly replyCode: ChannelReplyCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ChannelError';
  }
}

/** Closes the connection that caused it. */
export class ConnectionError extends AmqpError {
  constructor(
    readonly replyCode: ConnectionReplyCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ConnectionError';
  }
}

/** RabbitMQ's code and scope for each kind of core error. */
const CHANNEL_CODES: Partial<Record<BrokerErrorKind, ChannelReplyCode>> = {
  [BrokerErrorKind.NotFound]: ChannelReplyCode.NotFound,
  [BrokerErrorKind.AccessRefused]: ChannelReplyCode.AccessRefused,
  [BrokerErrorKind.ResourceLocked]: ChannelReplyCode.ResourceLocked,
  [BrokerErrorKind.PreconditionFailed]: ChannelReplyCode.PreconditionFailed,
};
const CONNECTION_CODES: Record<BrokerErrorKind, ConnectionReplyCode> = {
  [BrokerErrorKind.NotFound]: ConnectionReplyCode.InvalidPath,
  [BrokerErrorKind.AccessRefused]: ConnectionReplyCode.AccessRefused,
  [BrokerErrorKind.ResourceLocked]: ConnectionReplyCode.ResourceError,
  [BrokerErrorKind.PreconditionFailed]: ConnectionReplyCode.NotAllowed,
  // RabbitMQ closes the connection for an unknown exchange type (rabbit_exchange:check_type).
  [BrokerErrorKind.InvalidArgument]: ConnectionReplyCode.CommandInvalid,
  [BrokerErrorKind.NotImplemented]: ConnectionReplyCode.NotImplemented,
  [BrokerErrorKind.ResourceError]: ConnectionReplyCode.ResourceError,
  [BrokerErrorKind.InternalError]: ConnectionReplyCode.InternalError,
};

/**
 * The AMQP form of an error thrown while handling a frame: this door's own errors as they are; a core
 * error by its kind (a channel error where the spec has a soft code for it, else a connection error);
 * undefined for anything else (a bug: the caller logs it and closes with 541).
 */
export function toAmqpError(error: unknown): AmqpError | undefined {
  if (error instanceof AmqpError) return error;
  if (!(error instanceof BrokerError)) return undefined;
  const channelCode = CHANNEL_CODES[error.kind];
  if (channelCode !== undefined) return new ChannelError(channelCode, error.message, { cause: error });
  return new ConnectionError(CONNECTION_CODES[error.kind], error.message, { cause: error });
}

/** The same, for a failure that must close the connection whatever its kind (the handshake). */
export function toConnectionError(error: AmqpError | BrokerError): ConnectionError {
  if (error instanceof ConnectionError) return error;
  if (error instanceof ChannelError) return new ConnectionError(error.replyCode as ConnectionReplyCode, error.message, { cause: error });
  if (error instanceof BrokerError) return new ConnectionError(CONNECTION_CODES[error.kind], error.message, { cause: error });
  return new ConnectionError(ConnectionReplyCode.InternalError, error.message, { cause: error });
}
