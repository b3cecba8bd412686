/**
 * Retained messages of one vhost (MQTT 5.0 3.3.1.3), kept durably through the core: every retained
 * message is a persistent message in the durable queue `mqtt-retained`, held (delivered, never acked)
 * by this store's consumer, which keeps the newest per topic and acknowledges the one it replaces.
 * After a restart the queue gives every stored message back (redelivered), in log order, and the map
 * is rebuilt. No side file: the store's own format, recovery and compaction apply.
 */
import type { Consumer, QueueEntry, SessionOwner } from '../broker/front-door.js';
import { Message, type FieldTable } from '../broker/message.js';
import type { QueueView } from '../broker/queue-view.js';
import type { VHost } from '../broker/vhost.js';
import type { DurabilityBarrier } from '../session/durability.js';
import { routingKeyToTopic, topicMatches } from './topics.js';

export const RETAINED_QUEUE = 'mqtt-retained';

export class RetainedStore implements Consumer {
  readonly tag = 'mqtt-retained-store';
  readonly noAck = false;
  readonly exclusive = true;
  readonly priority = 0;
  readonly arguments: FieldTable = {};
  readonly owner: SessionOwner = { name: 'mqtt retained store' };
  private readonly byTopic = new Map<string, QueueEntry>();
  private readonly queue: QueueView;

  constructor(vhost: VHost) {
    const existing = vhost.getQueue(RETAINED_QUEUE);
    this.queue = existing ?? vhost.declareQueue({ name: RETAINED_QUEUE, durable: true, exclusive: false, autoDelete: false, arguments: {} }, this.owner).queue;
    this.queue.addConsumer(this);
  }

  /** What a retained publish must also wait for before it is acknowledged. */
  get durability(): DurabilityBarrier | undefined {
    return this.queue.durability;
  }

  get size(): number {
    return this.byTopic.size;
  }

  /** Keeps `message` as its topic's retained message; an empty payload clears the topic. */
  retain(message: Message): void {
    if (message.body.length === 0) {
      const old = this.byTopic.get(message.routingKey);
      this.byTopic.delete(message.routingKey);
      if (old !== undefined) this.queue.ack(old);
      return;
    }
    const stored = new Message(message.exchange, message.routingKey, { ...message.properties, deliveryMode: 2 }, message.body);
    this.queue.enqueue(stored);
  }

  /** Retained messages whose topics match an MQTT filter. */
  matching(filter: string): Message[] {
    const out: Message[] = [];
    const now = Date.now();
    for (const [key, entry] of this.byTopic) {
      if (!topicMatches(filter, routingKeyToTopic(key))) continue;
      const expiration = entry.message.properties.expiration;
      if (expiration !== undefined && entry.message.publishedAt + Number(expiration) <= now) continue;
      out.push(entry.message);
    }
    return out;
  }

  canTake(): boolean {
    return true;
  }

  deliver(entry: QueueEntry): void {
    const key = entry.message.routingKey;
    const old = this.byTopic.get(key);
    this.byTopic.set(key, entry);
    if (old !== undefined) queueMicrotask(() => this.queue.ack(old));
  }

  cancelledByBroker(): void {
    this.byTopic.clear();
  }

  /** The listener closes: the held messages go back to the queue (ready, still stored). */
  close(): void {
    if (this.queue.deleted) return;
    this.queue.removeConsumer(this);
    this.queue.requeue([...this.byTopic.values()].sort((a, b) => a.seq - b.seq));
    this.byTopic.clear();
  }
}
