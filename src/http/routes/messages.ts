import type { QueueEntry } from '../../broker/front-door.js';
import type { QueueView } from '../../broker/queue-view.js';
import { badRequest } from '../errors.js';
import { propertiesToJson } from '../format.js';

export type PayloadEncoding = 'auto' | 'base64';

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function encodePayload(body: Buffer, encoding: PayloadEncoding): { payload: string; payload_encoding: string } {
  if (encoding === 'auto') {
    try {
      return { payload: strictUtf8.decode(body), payload_encoding: 'string' };
    } catch {
      // not UTF-8: fall through to base64, as RabbitMQ's "auto" does
    }
  }
  return { payload: body.toString('base64'), payload_encoding: 'base64' };
}

export function parseEncoding(value: unknown): PayloadEncoding {
  if (value === undefined || value === 'auto') return 'auto';
  if (value === 'base64') return 'base64';
  throw badRequest(`encoding must be auto or base64, got '${String(value)}'`);
}

/** truncate: the most payload bytes shown (RabbitMQ's get option); undefined = everything. */
export function parseTruncate(value: unknown): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const n = typeof value === 'string' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) throw badRequest('truncate must be a non-negative integer');
  return n;
}

export function parseCount(value: unknown, fallback: number): number {
  if (value === undefined || value === null || value === '') return fallback;
  const n = typeof value === 'string' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) throw badRequest('count must be a non-negative integer');
  return n;
}

/** One message as POST /api/queues/{vhost}/{name}/get answers it. */
export function messageJson(
  entry: QueueEntry,
  redelivered: boolean,
  messageCount: number,
  encoding: PayloadEncoding,
  truncate: number | undefined,
): Record<string, unknown> {
  const message = entry.message;
  const body = truncate === undefined || truncate >= message.body.length ? message.body : message.body.subarray(0, truncate);
  return {
    payload_bytes: message.body.length,
    redelivered,
    exchange: message.exchange,
    routing_key: message.routingKey,
    message_count: messageCount,
    properties: propertiesToJson(message.properties),
    ...encodePayload(body, encoding),
  };
}

export const ACK_MODES = ['ack_requeue_true', 'ack_requeue_false', 'reject_requeue_true', 'reject_requeue_false'] as const;
export type AckMode = (typeof ACK_MODES)[number];

export function parseAckMode(value: unknown): AckMode {
  if (typeof value !== 'string') throw badRequest('[{key_missing,ackmode}]');
  if (!(ACK_MODES as readonly string[]).includes(value)) throw badRequest(`ackmode must be one of ${ACK_MODES.join(', ')}`);
  return value as AckMode;
}

/**
 * basic.get semantics for the API: takes up to `count` messages, then settles them all at once
 * according to `ackmode` (requeueing only at the end, so a count > 1 never sees the same message twice).
 */
export async function getMessages(queue: QueueView, count: number, ackmode: AckMode, encoding: PayloadEncoding, truncate: number | undefined): Promise<Record<string, unknown>[]> {
  const taken: QueueEntry[] = [];
  const rows: Record<string, unknown>[] = [];
  for (let i = 0; i < count; i++) {
    const entry = await queue.getOrWait(false);
    if (entry === undefined) break;
    taken.push(entry);
    rows.push(messageJson(entry, entry.redelivered, queue.readyCount(), encoding, truncate));
  }
  if (ackmode === 'ack_requeue_true' || ackmode === 'reject_requeue_true') queue.requeue(taken);
  else if (ackmode === 'ack_requeue_false') for (const entry of taken) queue.ack(entry);
  else for (const entry of taken) queue.reject(entry, false);
  return rows;
}

/** Ready messages from `offset` on, untouched: no delivery, no redelivered flag (Warren's browse). */
export async function peekMessages(queue: QueueView, offset: number, count: number, encoding: PayloadEncoding, truncate: number | undefined): Promise<Record<string, unknown>[]> {
  const ready = queue.readyCount();
  return (await queue.browse(offset, count)).map((entry, i) => messageJson(entry, entry.redelivered, ready - offset - i - 1, encoding, truncate));
}

/** Moves up to `count` ready messages to another queue, oldest first, keeping their properties. */
export async function moveMessages(source: QueueView, destination: QueueView, count: number): Promise<number> {
  let moved = 0;
  while (moved < count) {
    const entry = await source.getOrWait(true);
    if (entry === undefined) break;
    destination.enqueue(entry.message);
    moved++;
  }
  return moved;
}
