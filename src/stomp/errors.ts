import { BrokerError, BrokerErrorKind } from '../broker/errors.js';
import { StompProtocolError } from './codec/frame.js';

/**
 * What the client reads in an ERROR frame: a short `message` header and a longer body. The STOMP spec
 * defines no codes, so the core's error kinds become the message texts RabbitMQ's STOMP plugin uses
 * ("not_found", "access_refused", ...), with the core's reason as the body.
 */
export interface StompErrorReport {
  readonly message: string;
  readonly detail: string;
}

/** A request the client got wrong (missing header, unknown subscription): ERROR, then close. */
export class StompRequestError extends Error {
  constructor(
    readonly summary: string,
    detail: string,
  ) {
    super(detail);
    this.name = 'StompRequestError';
  }
}

const SUMMARY_BY_KIND: Record<BrokerErrorKind, string> = {
  [BrokerErrorKind.NotFound]: 'not_found',
  [BrokerErrorKind.AccessRefused]: 'access_refused',
  [BrokerErrorKind.ResourceLocked]: 'resource_locked',
  [BrokerErrorKind.PreconditionFailed]: 'precondition_failed',
  [BrokerErrorKind.InvalidArgument]: 'invalid_argument',
  [BrokerErrorKind.NotImplemented]: 'not_implemented',
  [BrokerErrorKind.ResourceError]: 'resource_error',
  [BrokerErrorKind.InternalError]: 'internal_error',
};

export function toStompError(error: unknown): StompErrorReport {
  if (error instanceof StompRequestError) return { message: error.summary, detail: error.message };
  if (error instanceof StompProtocolError) return { message: 'Invalid frame', detail: error.message };
  if (error instanceof BrokerError) return { message: SUMMARY_BY_KIND[error.kind], detail: error.message };
  return { message: 'internal_error', detail: 'internal error' };
}

export function missingHeader(command: string, header: string): StompRequestError {
  return new StompRequestError('Missing header', `${command} frame requires the '${header}' header`);
}
