import { BrokerError, BrokerErrorKind } from '../broker/errors.js';

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
 * Maps a core error to HTTP by its kind, as RabbitMQ's management API answers: access refused is 401
 * not_authorised (e.g. declaring 'amq.foo'), not found 404, locked 405; inequivalent arguments and
 * unknown types are 400.
 */
export function fromBrokerError(error: BrokerError): HttpError {
  switch (error.kind) {
    case BrokerErrorKind.AccessRefused:
      return notAuthorised(error.message);
    case BrokerErrorKind.NotFound:
      return new HttpError(404, 'not_found', error.message);
    case BrokerErrorKind.ResourceLocked:
      return new HttpError(405, 'resource_locked', error.message);
    case BrokerErrorKind.NotImplemented:
      return notImplemented(error.message);
    case BrokerErrorKind.InternalError:
    case BrokerErrorKind.ResourceError:
      return new HttpError(500, 'internal_error', error.message);
    case BrokerErrorKind.PreconditionFailed:
    case BrokerErrorKind.InvalidArgument:
      return badRequest(error.message);
  }
}

/** Turns anything a handler threw into an HttpError (unknown errors are 500 and get logged by the caller). */
export function toHttpError(error: unknown): HttpError | undefined {
  if (error instanceof HttpError) return error;
  if (error instanceof BrokerError) return fromBrokerError(error);
  // The user registry throws these for bad names, hashes and permission patterns.
  if (error instanceof RangeError || error instanceof SyntaxError) return badRequest(error.message);
  return undefined;
}
