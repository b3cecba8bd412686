/**
 * One message fanned out to many MQTT 3.1/3.1.1 subscribers is encoded once: the PUBLISH bytes depend
 * only on the message, QoS and RETAIN (3.1.1 has no properties), so they are kept per message (a bounded
 * number of recent ones) and shared; a QoS 1/2 copy gets its own packet identifier patched in (3.3.2.2).
 * 5.0 packets carry per-subscriber properties (subscription identifiers, expiry left) and are encoded
 * each time.
 */
import type { Message } from '../broker/message.js';
import { encodePacket } from './codec/encode.js';
import type { QoS } from './codec/packets.js';
import { routingKeyToTopic } from './topics.js';

/** Routing keys converted back to topics, remembered (a fan-out converts the same key once). */
const TOPIC_MEMO_LIMIT = 4096;
/** Recent messages whose encodings are kept: enough for a fan-out's queues to dispatch the same batch. */
const MESSAGE_MEMO_LIMIT = 2048;

export class PublishEncodings {
  /**
   * Per recent message: bytes by (qos * 2 + retain), packet id 0 where there is one. A bounded Map, not
   * a WeakMap: one ephemeron per message made the garbage collector's share grow in the 1 -> 1 case.
   */
  private readonly byMessage = new Map<Message, (Buffer | undefined)[]>();
  private readonly topics = new Map<string, string>();

  /** routingKeyToTopic, memoized per door (bounded: cleared when full). */
  topicOf(routingKey: string): string {
    let topic = this.topics.get(routingKey);
    if (topic !== undefined) return topic;
    topic = routingKeyToTopic(routingKey);
    if (this.topics.size >= TOPIC_MEMO_LIMIT) this.topics.clear();
    this.topics.set(routingKey, topic);
    return topic;
  }

  /** The PUBLISH of `message` for a 3.1.1 client (dup clear); a copy with `packetId` set for QoS > 0. */
  bytes(message: Message, topic: string, qos: QoS, retain: boolean, packetId: number | undefined): Buffer {
    let forms = this.byMessage.get(message);
    if (forms === undefined) {
      if (this.byMessage.size >= MESSAGE_MEMO_LIMIT) this.byMessage.clear();
      this.byMessage.set(message, (forms = []));
    }
    const slot = qos * 2 + (retain ? 1 : 0);
    let shared = forms[slot];
    if (shared === undefined) {
      shared = encodePacket({ type: 'publish', dup: false, qos, retain, topic, packetId: qos === 0 ? undefined : 0, payload: message.body, properties: {} }, 4);
      forms[slot] = shared;
    }
    if (packetId === undefined) return shared;
    const copy = Buffer.allocUnsafe(shared.length);
    shared.copy(copy);
    // The packet identifier sits right before the payload (no properties in 3.1.1).
    copy.writeUInt16BE(packetId, shared.length - message.body.length - 2);
    return copy;
  }
}
