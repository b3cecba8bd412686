import { BrokerError, BrokerErrorKind } from '../broker/errors.js';

/**
 * An SQS error as both wire protocols carry it: `code` is the query protocol's error code (the XML
 * ErrorResponse's <Code>, and the JSON protocol's x-amzn-query-error header, which the JS SDK reads
 * first); `type` is the JSON protocol's `__type` shape name. Codes, shapes and statuses are AWS's, as
 * the SDKs' service models list them (awsQueryError traits), so the SDKs raise their typed errors.
 */
export class SqsError extends Error {
  constructor(
    readonly type: string,
    readonly code: string,
    readonly status: number,
    message: string,
    /** 'Sender' (the client's fault) or 'Receiver' (ours). */
    readonly fault: 'Sender' | 'Receiver' = 'Sender',
  ) {
    super(message);
    this.name = 'SqsError';
  }
}

/** [shape name, query code, HTTP status] of each modelled error. */
const MODELLED = {
  QueueDoesNotExist: ['AWS.SimpleQueueService.NonExistentQueue', 400],
  QueueNameExists: ['QueueAlreadyExists', 400],
  QueueDeletedRecently: ['AWS.SimpleQueueService.QueueDeletedRecently', 400],
  PurgeQueueInProgress: ['AWS.SimpleQueueService.PurgeQueueInProgress', 403],
  ReceiptHandleIsInvalid: ['ReceiptHandleIsInvalid', 404],
  MessageNotInflight: ['AWS.SimpleQueueService.MessageNotInflight', 400],
  TooManyEntriesInBatchRequest: ['AWS.SimpleQueueService.TooManyEntriesInBatchRequest', 400],
  EmptyBatchRequest: ['AWS.SimpleQueueService.EmptyBatchRequest', 400],
  BatchEntryIdsNotDistinct: ['AWS.SimpleQueueService.BatchEntryIdsNotDistinct', 400],
  InvalidBatchEntryId: ['AWS.SimpleQueueService.InvalidBatchEntryId', 400],
  BatchRequestTooLong: ['AWS.SimpleQueueService.BatchRequestTooLong', 400],
  UnsupportedOperation: ['AWS.SimpleQueueService.UnsupportedOperation', 400],
  InvalidAttributeName: ['InvalidAttributeName', 400],
  InvalidAttributeValue: ['InvalidAttributeValue', 400],
  InvalidMessageContents: ['InvalidMessageContents', 400],
  InvalidAddress: ['InvalidAddress', 404],
  InvalidSecurity: ['InvalidSecurity', 403],
  OverLimit: ['OverLimit', 403],
  ResourceNotFoundException: ['ResourceNotFoundException', 404],
  // Common errors of every AWS query API (not in the SQS model: the SDKs raise a generic error with this code).
  InvalidParameterValue: ['InvalidParameterValue', 400],
  MissingParameter: ['MissingParameter', 400],
  InvalidAction: ['InvalidAction', 400],
  AccessDenied: ['AccessDenied', 403],
  InvalidClientTokenId: ['InvalidClientTokenId', 403],
  SignatureDoesNotMatch: ['SignatureDoesNotMatch', 403],
  RequestExpired: ['RequestExpired', 400],
  MissingAuthenticationToken: ['MissingAuthenticationToken', 403],
  IncompleteSignature: ['IncompleteSignature', 400],
  MalformedQueryString: ['MalformedQueryString', 400],
  InternalFailure: ['InternalFailure', 500],
  ServiceUnavailable: ['ServiceUnavailable', 503],
} as const satisfies Record<string, readonly [string, number]>;

export type SqsErrorName = keyof typeof MODELLED;

export function sqsError(name: SqsErrorName, message: string): SqsError {
  const [code, status] = MODELLED[name];
  return new SqsError(name, code, status, message, status >= 500 ? 'Receiver' : 'Sender');
}

export const invalidParameter = (message: string): SqsError => sqsError('InvalidParameterValue', message);
export const missingParameter = (name: string): SqsError =>
  sqsError('MissingParameter', `The request must contain the parameter ${name}.`);

/** The core's error kinds, by meaning, as SQS errors. */
export function toSqsError(error: unknown): SqsError {
  if (error instanceof SqsError) return error;
  if (error instanceof BrokerError) {
    switch (error.kind) {
      case BrokerErrorKind.NotFound:
        return sqsError('QueueDoesNotExist', 'The specified queue does not exist.');
      case BrokerErrorKind.AccessRefused:
      case BrokerErrorKind.ResourceLocked:
        return sqsError('AccessDenied', error.message);
      case BrokerErrorKind.PreconditionFailed:
      case BrokerErrorKind.InvalidArgument:
        return invalidParameter(error.message);
      case BrokerErrorKind.NotImplemented:
        return sqsError('UnsupportedOperation', error.message);
      case BrokerErrorKind.ResourceError:
        return sqsError('ServiceUnavailable', error.message);
      default:
        return sqsError('InternalFailure', error.message);
    }
  }
  return sqsError('InternalFailure', 'We encountered an internal error. Please try again.');
}
