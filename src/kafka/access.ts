/**
 * Warren's permissions for Kafka requests, RabbitMQ's rule per operation on the partition streams:
 * configure to create or delete a topic, write to produce, read to fetch and list offsets.
 * A refusal is answered as TOPIC_AUTHORIZATION_FAILED for that topic only.
 */
import type { PermissionKind } from '../auth/permissions.js';
import { BrokerError } from '../broker/errors.js';
import type { KafkaSession } from './session.js';

/** undefined when allowed, else why not. */
export function refusal(session: KafkaSession, permission: PermissionKind, queue: string): string | undefined {
  const name = session.user;
  const user = name === undefined ? undefined : session.door.users.getUser(name);
  if (user === undefined) return `no user may ${permission} '${queue}' on this connection`;
  try {
    session.door.users.authorize(user, session.vhost, permission, 'queue', queue);
    return undefined;
  } catch (error) {
    if (error instanceof BrokerError) return error.message;
    throw error;
  }
}
