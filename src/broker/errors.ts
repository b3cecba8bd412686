/**
 * Broker errors carry the AMQP 0-9-1 reply code that a client sees. Other front doors (HTTP, later SQS)
 * map the same codes to their own status codes, so the core speaks one vocabulary of failure.
 *
 * Two classes, as the spec splits them: a soft (channel) error closes only the channel; a hard
 * (connection) error closes the whole connection. The types keep a channel close from ever carrying a
 * connection-level code.
 */

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

/** Base of every error the broker raises on purpose. `replyText` is what goes on the wire. */
export abstract class WarrenError extends Error {
  abstract readonly replyCode: number;
  /** "NOT_FOUND - no queue 'q' in vhost '/'": RabbitMQ's reply-text shape. */
  get replyText(): string {
    return `${replyName(this.replyCode)} - ${this.message}`;
  }
}

/** Closes the channel that caused it. */
export class ChannelError extends WarrenError {
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
export class ConnectionError extends WarrenError {
  constructor(
    readonly replyCode: ConnectionReplyCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ConnectionError';
  }
}

/** Quotes a resource as RabbitMQ does in reply texts: "queue 'jobs' in vhost '/'". */
export function describeResource(kind: 'queue' | 'exchange', name: string, vhost: string): string {
  return `${kind} '${name}' in vhost '${vhost}'`;
}

export const notFound = (kind: 'queue' | 'exchange', name: string, vhost: string): ChannelError =>
  new ChannelError(ChannelReplyCode.NotFound, `no ${describeResource(kind, name, vhost)}`);

export const preconditionFailed = (message: string): ChannelError =>
  new ChannelError(ChannelReplyCode.PreconditionFailed, message);

export const accessRefused = (message: string): ChannelError =>
  new ChannelError(ChannelReplyCode.AccessRefused, message);

export const resourceLocked = (message: string): ChannelError =>
  new ChannelError(ChannelReplyCode.ResourceLocked, message);
