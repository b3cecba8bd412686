/** Finding a request's topic, creating it when kafka.autoCreateTopics says so. */
import { refusal } from '../access.js';
import { ErrorCode } from '../protocol/error-codes.js';
import type { KafkaSession } from '../session.js';
import { TopicError, validTopicName, type Topic } from '../topics.js';

/**
 * The topic made by auto-creation (kafka.defaultPartitions partitions), or undefined when
 * auto-creation is off. Needs configure permission on the stream, like a CreateTopics.
 */
export function autoCreate(session: KafkaSession, name: string): Topic | undefined {
  const settings = session.door.settings;
  if (!settings.autoCreateTopics) return undefined;
  if (!validTopicName(name)) throw new TopicError(ErrorCode.INVALID_TOPIC_EXCEPTION, `'${name}' is not a legal topic name`);
  const partitions = settings.defaultPartitions;
  const denied = refusal(session, 'configure', partitions === 1 ? name : `${name}-0`);
  if (denied !== undefined) throw new TopicError(ErrorCode.TOPIC_AUTHORIZATION_FAILED, denied);
  return session.door.topics.create(name, partitions, new Map(), session);
}
