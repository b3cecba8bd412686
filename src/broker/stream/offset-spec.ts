import { preconditionFailed } from '../errors.js';
import { TypedValue, fieldNumber, type FieldValue } from '../message.js';
import type { StreamLog } from '../../store/store.js';
import { parseAge } from './stream-arguments.js';

/**
 * Where a stream consumer starts (the x-stream-offset consumer argument, RabbitMQ's forms): "first",
 * "last" (the newest chunk), "next" (the default: only what is appended from now), a numeric offset
 * (clamped into what is kept), an AMQP timestamp (seconds: the first chunk written at or after it), or
 * an interval such as "1h" (that long ago).
 */
export function startOffset(value: FieldValue | undefined, log: StreamLog, resource: string, now = Date.now()): number {
  if (value === undefined || value === 'next') return log.nextOffset;
  if (value === 'first') return log.firstOffset;
  if (value === 'last') return log.lastChunkOffset();
  if (value instanceof TypedValue && value.type === 'T') return log.offsetAt(Number(value.value) * 1000);
  if (typeof value === 'string') {
    const ago = parseAge(value);
    if (ago !== undefined) return log.offsetAt(now - ago);
  } else {
    const n = fieldNumber(value);
    if (n !== undefined && Number.isInteger(n)) return Math.min(Math.max(n, log.firstOffset), log.nextOffset);
  }
  // RabbitMQ 3.10 closes the connection with 541 INTERNAL_ERROR here; a channel error that says why is kinder.
  throw preconditionFailed(`invalid x-stream-offset for ${resource}: ${describe(value)}`);
}

function describe(value: FieldValue): string {
  if (typeof value === 'string') return `'${value}'`;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return 'an unsupported value type';
}
