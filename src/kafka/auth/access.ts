/**
 * Who may do what to a topic: Warren's own permissions (RabbitMQ's configure/write/read regular
 * expressions per user and vhost), matched against the topic's name in the door's vhost. The Kafka
 * handlers ask here and answer a refusal with Kafka's per-topic code:
 *
 *   CreateTopics, DeleteTopics, CreatePartitions, auto-create   configure
 *   Produce                                                     write
 *   Fetch, ListOffsets, OffsetCommit, OffsetFetch               read
 *
 * (RabbitMQ's stream plugin checks the same permissions on the stream's name.) The partition streams
 * of a topic (`<topic>-<n>`) go with the topic: what is granted on the topic name is granted on them.
 */
import type { PermissionKind } from '../../auth/permissions.js';
import { ErrorCode } from '../protocol/error-codes.js';
import type { KafkaSession } from '../session.js';

export type TopicPermission = PermissionKind;

/** True when the session's user holds `permission` on `topic` in the session's vhost. */
export function topicAllowed(session: KafkaSession, permission: TopicPermission, topic: string): boolean {
  if (session.user === undefined) return false;
  const granted = session.door.users.permissions(session.user, session.vhost);
  return granted !== undefined && granted[permission].test(topic);
}

/** NONE, or TOPIC_AUTHORIZATION_FAILED (29) for a per-topic error field. */
export function topicAccessError(session: KafkaSession, permission: TopicPermission, topic: string): number {
  return topicAllowed(session, permission, topic) ? ErrorCode.NONE : ErrorCode.TOPIC_AUTHORIZATION_FAILED;
}

/** The message a response with an error_message field carries (CreateTopics v1+), in RabbitMQ's words. */
export function topicRefusal(session: KafkaSession, permission: TopicPermission, topic: string): string {
  return `${permission} access to topic '${topic}' in vhost '${session.vhost}' refused for user '${session.user ?? '(none)'}'`;
}
