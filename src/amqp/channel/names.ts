import { randomBytes } from 'node:crypto';

/** A server-generated consumer tag, shaped like RabbitMQ's ("amq.ctag-" + 22 base64url characters). */
export function generateConsumerTag(): string {
  return `amq.ctag-${randomBytes(16).toString('base64url')}`;
}
