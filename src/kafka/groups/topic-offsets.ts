/** The door's topics (../topics.ts) as committed offsets need them: partition logs, and their queues' names. */
import type { KafkaSession } from '../session.js';
import type { OffsetTopics } from './offsets.js';

export interface DoorOffsetTopics extends OffsetTopics {
  /** The stream queue behind a partition (permissions are checked on it); undefined if there is none. */
  queueOf(topic: string, partition: number): string | undefined;
}

export function doorTopics(session: KafkaSession): DoorOffsetTopics {
  const topics = session.door.topics;
  return {
    partition: (topic, index) => topics.partition(topic, index),
    list: () => topics.list(),
    queueOf: (topic, index) => topics.partition(topic, index)?.queue.name,
  };
}
