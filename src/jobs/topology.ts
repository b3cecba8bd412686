import type { AmqpConnection, ConfirmChannel } from './amqp-link.js';
import { DEFAULT_LOCK_DURATION_MS, GROUP_HEADER, MAX_PRIORITY, names } from './types.js';

/**
 * Declares a job queue's topology on the broker. Only broker features carry the jobs: priorities
 * (x-max-priority), message groups for per-key order (a second queue, since a queue has either
 * priorities or groups), the x-delayed-message exchange for delays and backoff, the consumer timeout
 * (x-consumer-timeout) as BullMQ's lockDuration, and a fanout exchange for events.
 * The queue's arguments are fixed at its first declaration: a later Worker with another lockDuration
 * uses the existing queue (checked passively first) instead of failing on inequivalent arguments.
 */
export async function declareTopology(channel: ConfirmChannel, connection: AmqpConnection, queue: string, lockDurationMs = DEFAULT_LOCK_DURATION_MS, groupConcurrency = 1): Promise<void> {
  const n = names(queue);
  await channel.assertExchange(n.delayed, 'x-delayed-message', { durable: true, arguments: { 'x-delayed-type': 'direct' } });
  await channel.assertExchange(n.events, 'fanout', { durable: true });
  await channel.assertExchange(n.control, 'fanout', { durable: true });
  await declareOnce(channel, connection, n.queue, { 'x-max-priority': MAX_PRIORITY, 'x-consumer-timeout': lockDurationMs });
  // One job of a group at a time by default (strict per-key order); BullMQ Pro's group concurrency
  // (Worker `group: { concurrency }`) allows more of a group at once, fixed at the first declaration.
  await declareOnce(channel, connection, n.groups, { 'x-message-group-header': GROUP_HEADER, 'x-message-group-max-in-flight': groupConcurrency, 'x-consumer-timeout': lockDurationMs });
  await channel.bindQueue(n.queue, n.delayed, 'job');
  await channel.bindQueue(n.groups, n.delayed, 'group');
}

async function declareOnce(channel: ConfirmChannel, connection: AmqpConnection, queue: string, args: Record<string, unknown>): Promise<void> {
  // A passive declare that fails closes the channel; use a throwaway one for the check.
  const probe = await connection.createChannel();
  probe.on('error', () => undefined);
  let exists = true;
  try {
    await probe.checkQueue(queue);
  } catch {
    exists = false;
  }
  if (exists) await probe.close().catch(() => undefined);
  if (!exists) await channel.assertQueue(queue, { durable: true, arguments: args });
}
