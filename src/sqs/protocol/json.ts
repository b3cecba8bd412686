import { SqsError, sqsError } from '../errors.js';
import type { Params, SqsRequest, SqsResult } from './request.js';

/** The JSON 1.0 protocol's content type (awsJson1_0: X-Amz-Target names the operation). */
export const JSON_CONTENT_TYPE = 'application/x-amz-json-1.0';
const TARGET_PREFIX = 'AmazonSQS.';
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes a JSON protocol call: `X-Amz-Target: AmazonSQS.<Action>` and a JSON object body (empty = {}).
 * Anything else is an SqsError the caller returns, never an exception of another kind.
 */
export function decodeJsonRequest(target: string, body: Buffer): SqsRequest {
  if (!target.startsWith(TARGET_PREFIX) || target.length === TARGET_PREFIX.length) {
    throw sqsError('InvalidAction', `The action or operation requested is invalid: ${JSON.stringify(target)}.`);
  }
  const action = target.slice(TARGET_PREFIX.length);
  if (body.length === 0) return { protocol: 'json', action, params: {} };
  let text: string;
  try {
    text = strictUtf8.decode(body);
  } catch {
    throw serialization('The request body is not valid UTF-8.');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw serialization('The request body is not valid JSON.');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw serialization('The request body must be a JSON object.');
  }
  return { protocol: 'json', action, params: parsed as Params };
}

function serialization(message: string): SqsError {
  // AWS answers malformed JSON with coral's SerializationException; no SDK has a typed class for it.
  return new SqsError('SerializationException', 'SerializationException', 400, message);
}

export function encodeJsonResult(result: SqsResult): string {
  return JSON.stringify(result ?? {});
}

export interface EncodedError {
  headers: Record<string, string>;
  body: string;
}

/** `__type` names the shape; the x-amzn-query-error header the query code and fault, which the JS SDK reads first. */
export function encodeJsonError(error: SqsError): EncodedError {
  return {
    headers: { 'x-amzn-query-error': `${error.code};${error.fault}`, 'content-type': JSON_CONTENT_TYPE },
    body: JSON.stringify({ __type: `com.amazonaws.sqs#${error.type}`, message: error.message }),
  };
}
