/** Small pieces the perf client's connection and channels share. */
import type { MethodId, Method } from '../amqp/spec/generated.js';

const TWO_32 = 2 ** 32;

/** Monotonic nanoseconds, comparable between processes on one machine (CLOCK_MONOTONIC). */
export function nowNs(): number {
  return Number(process.hrtime.bigint());
}

/** A method sent that waits for its reply. */
export interface PendingRpc {
  expect: MethodId;
  resolve(method: Method): void;
  reject(error: Error): void;
}

/** A 64-bit big-endian integer as a double (exact below 2^53: delivery tags and nanosecond stamps). */
export function readTag(buf: Buffer, offset: number): number {
  return buf.readUInt32BE(offset) * TWO_32 + buf.readUInt32BE(offset + 4);
}
