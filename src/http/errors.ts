import { ChannelReplyCode, ConnectionReplyCode, WarrenError } from '../broker/errors.js';

/**
 * An HTTP answer that is not a success, in RabbitMQ's management body shape:
 * `{"error": "bad_request", "reason": "..."}`. Route handlers throw these; the server's error handler
 * writes them.
 */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly error: string,
    readonly reason: string,
  ) {
    super(reason);
    this.name = 'HttpError';
  }

  get body(): { error: string; reason: string } {
    return { error: this.error, reason: this.reason };
  }
}

export const badRequest = (reason: string): HttpError => new HttpError(400, 'bad_request', reason);

/** RabbitMQ's exact 404 body for an unknown object or path. */
export const objectNotFound = (): HttpError => new HttpError(404, 'Object Not Found', 'Not Found');

/** RabbitMQ answers every authorisation failure with 401 and this error name. */
export const notAuthorised = (reason: string): HttpError => new HttpError(401, 'not_authorised', reason);

export const notImplemented = (reason: string): HttpError => new HttpError(501, 'not_implemented', reason);

/**
 * Maps a broker error to HTTP by its AMQP reply code. ACCESS_REFUSED becomes 401 not_authorised, as
 * RabbitMQ's management API answers (e.g. declaring 'amq.foo'); other codes keep their number where HTTP
 * has one (404, 405) and PRECONDITION_FAILED / COMMAND_INVALID become 400 like RabbitMQ's inequivalent-arg
 * and unknown-type answers.
 */
export function fromBrokerError(error: WarrenError): HttpError {
  switch (error.replyCode) {
    case ChannelReplyCode.AccessRefused:
    case ConnectionReplyCode.AccessRefused:
    case ConnectionReplyCode.NotAllowed:
      return notAuthorised(error.message);
    case ChannelReplyCode.NotFound:
      return new HttpError(404, 'not_found', error.message);
    case ChannelReplyCode.ResourceLocked:
      return new HttpError(405, 'resource_locked', error.message);
    case ConnectionReplyCode.NotImplemented:
      return notImplemented(error.message);
    case ConnectionReplyCode.InternalError:
      return new HttpError(500, 'internal_error', error.message);
    default:
      return badRequest(error.message);
  }
}

/** Turns anything a handler threw into an HttpError (unknown errors are 500 and get logged by the caller). */
export function toHttpError(error: unknown): HttpError | undefined {
  if (error instanceof HttpError) return error;
  if (error instanceof WarrenError) return fromBrokerError(error);
  // The user registry throws these for bad names, hashes and permission patterns.
  if (error instanceof RangeError || error instanceof SyntaxError) return badRequest(error.message);
  return undefined;
}
