import type { IncomingMessage } from 'node:http';
import { sqsError, type SqsError } from './errors.js';

/**
 * A request's whole body, at most `limit` bytes. A larger one is refused as SQS refuses it (by its
 * Content-Length at once, else when the limit is passed); the caller then answers and closes the
 * connection rather than read the rest.
 */
export function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  if (Number(request.headers['content-length']) > limit) return Promise.reject(tooLarge(limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      request.off('data', onData);
      reject(tooLarge(limit));
    };
    request.on('data', onData);
    request.once('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)));
    request.once('error', reject);
  });
}

function tooLarge(limit: number): SqsError {
  return sqsError('InvalidParameterValue', `Request body too large (limit ${limit} bytes).`);
}
