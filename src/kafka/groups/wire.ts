/** Small pieces the group handlers share: error codes on the wire, copies of request bytes. */
import { groupErrorCode, type GroupErrorName } from './errors.js';

export const code = groupErrorCode;

/** A view into the request frame, copied: the coordinator keeps metadata and assignments past the request. */
export function kept(bytes: Buffer | null): Buffer {
  return bytes === null ? Buffer.alloc(0) : Buffer.from(bytes);
}

/** Kafka answers a few errors with a message (FindCoordinator v1+); most carry none. */
export function messageOf(error: GroupErrorName): string | null {
  return error === 'NONE' ? null : error;
}
