/**
 * The door's topics as committed offsets need them. Until the door's topic mapping (../topics.ts) is
 * merged, no topic exists for offsets (commits answer UNKNOWN_TOPIC_OR_PARTITION).
 */
import type { KafkaSession } from '../session.js';
import type { OffsetTopics } from './offsets.js';

export function doorTopics(session: KafkaSession): OffsetTopics & { queueOf(topic: string, partition: number): string | undefined } {
  void session;
  return { partition: () => undefined, list: () => [], queueOf: () => undefined };
}
