import { randomBytes } from 'node:crypto';

/** Prefix RabbitMQ reserves for server-defined exchanges and queues. */
export const RESERVED_PREFIX = 'amq.';
export const SERVER_NAMED_PREFIX = 'amq.gen-';
/** The pseudo-queue clients consume from for direct reply-to. */
export const REPLY_TO_QUEUE = 'amq.rabbitmq.reply-to';
export const REPLY_TO_PREFIX = 'amq.rabbitmq.reply-to.';

/** "amq.gen-" + 22 base64url characters (128 random bits), like RabbitMQ's server-named queues. */
export function serverQueueName(): string {
  return SERVER_NAMED_PREFIX + randomBytes(16).toString('base64url');
}

/** An unguessable direct reply-to address; the opaque part carries no meaning for clients. */
export function replyToAddress(): string {
  return REPLY_TO_PREFIX + randomBytes(18).toString('base64url');
}

export function hasReservedPrefix(name: string): boolean {
  return name.startsWith(RESERVED_PREFIX);
}
