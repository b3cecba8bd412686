import { fieldString, type FieldTable } from '../broker/message.js';

/**
 * Whether a queue's messages live in PostgreSQL (replicated; they survive their node and move with the
 * queue): `x-queue-type: quorum`, the argument RabbitMQ users already write, or any queue without an
 * x-queue-type when the cluster's default queue type is quorum. `definition` is a stored queue
 * definition or anything with the queue's `arguments`.
 */
export function isReplicatedQueue(definition: unknown, defaultQueueType: 'classic' | 'quorum'): boolean {
  const args = (definition as { arguments?: unknown } | undefined)?.arguments;
  const type = typeof args === 'object' && args !== null ? fieldString((args as FieldTable)['x-queue-type']) : undefined;
  return (type ?? defaultQueueType) === 'quorum';
}
