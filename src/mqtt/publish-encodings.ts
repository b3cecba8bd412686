/**
 * What the deliveries of one message share, kept per door so the delivery path makes no object of its
 * own: the topic as UTF-8 bytes (per routing key, bounded) and the body view of the message being
 * fanned out. Each PUBLISH is then written straight into its subscriber's output block
 * (codec/direct.ts): header, topic bytes, packet id, payload, with no per-message encoding to memoize
 * and no copy of one for every QoS 1 subscriber.
 */
import type { Message } from '../broker/message.js';
import { routingKeyToTopic } from './topics.js';

/** Routing keys whose topic bytes are remembered (a fan-out converts the same key once). */
const TOPIC_MEMO_LIMIT = 4096;
const NO_BYTES: Buffer = Buffer.alloc(0);

export class PublishEncodings {
  private readonly topics = new Map<string, Buffer>();
  /** The last key asked for: a run of messages on one topic skips even the map. */
  private lastKey = '';
  private lastTopic = NO_BYTES;
  /** The last message's body: `Message.body` makes a view per call, and a fan-out asks in a row. */
  private lastMessage: Message | undefined;
  private lastBody = NO_BYTES;

  /** The MQTT topic of a routing key, as UTF-8 bytes (memoized per door; do not modify them). */
  topicBytes(routingKey: string): Buffer {
    if (routingKey === this.lastKey) return this.lastTopic;
    let topic = this.topics.get(routingKey);
    if (topic === undefined) {
      topic = Buffer.from(routingKeyToTopic(routingKey), 'utf8');
      if (this.topics.size >= TOPIC_MEMO_LIMIT) this.topics.clear();
      this.topics.set(routingKey, topic);
    }
    this.lastKey = routingKey;
    this.lastTopic = topic;
    return topic;
  }

  /** `message.body`, one view for consecutive deliveries of the same message. */
  bodyOf(message: Message): Buffer {
    if (message !== this.lastMessage) {
      this.lastMessage = message;
      this.lastBody = message.body;
    }
    return this.lastBody;
  }
}
