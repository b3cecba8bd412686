/**
 * The QoS 2 part of persistent sessions' state (MQTT 3.1.1 4.1 / 5.0 4.1: "QoS 2 messages which have
 * been received from the Client, but have not been completely acknowledged" and "QoS 2 messages ...
 * sent to the Client ... not completely acknowledged"), kept durably so a broker restart does not
 * forget them: the packet ids received and PUBREC'd but not yet released (a re-sent PUBLISH must not
 * be routed twice, 4.3.3), and the ids of deliveries the client PUBREC'd (PUBREL goes again, 4.4).
 *
 * As the retained store does, it keeps its records in the core: one durable queue per vhost,
 * `mqtt-qos2-state`, one persistent message per change (routing key = client id, body = JSON of both
 * id lists), held by this store's consumer, which keeps the newest per client and acknowledges the one
 * it replaces (an empty record is acknowledged at once: the client has nothing pending). After a
 * restart the queue gives the records back in log order and the map is rebuilt.
 */
import type { Consumer, QueueEntry, SessionOwner } from '../broker/front-door.js';
import { Message, type FieldTable } from '../broker/message.js';
import type { QueueView } from '../broker/queue-view.js';
import type { VHost } from '../broker/vhost.js';
import type { DurabilityBarrier } from '../session/durability.js';

export const QOS2_STATE_QUEUE = 'mqtt-qos2-state';

export interface Qos2State {
  /** Received from the client, PUBREC sent, PUBREL awaited. */
  readonly inbound: readonly number[];
  /** Delivered to the client and PUBREC'd by it, PUBCOMP awaited. */
  readonly release: readonly number[];
}

export class Qos2StateStore implements Consumer {
  readonly tag = 'mqtt-qos2-state-store';
  readonly noAck = false;
  readonly exclusive = true;
  readonly priority = 0;
  readonly arguments: FieldTable = {};
  readonly owner: SessionOwner = { name: 'mqtt qos2 state store' };
  private readonly byClient = new Map<string, QueueEntry>();
  private readonly queue: QueueView;

  constructor(vhost: VHost) {
    const existing = vhost.getQueue(QOS2_STATE_QUEUE);
    this.queue = existing ?? vhost.declareQueue({ name: QOS2_STATE_QUEUE, durable: true, exclusive: false, autoDelete: false, arguments: {} }, this.owner).queue;
    this.queue.addConsumer(this);
  }

  get deleted(): boolean {
    return this.queue.deleted;
  }

  /** The state stored for a client before a restart, if any. */
  load(clientId: string): Qos2State | undefined {
    const entry = this.byClient.get(clientId);
    return entry === undefined ? undefined : parse(entry.message.body);
  }

  /** Records a client's current QoS 2 state; returns what an acknowledgement must wait for. */
  save(clientId: string, state: Qos2State): DurabilityBarrier | undefined {
    const body = Buffer.from(JSON.stringify({ in: state.inbound, rel: state.release }));
    this.queue.enqueue(new Message('', clientId, { deliveryMode: 2 }, body));
    return this.queue.durability;
  }

  canTake(): boolean {
    return true;
  }

  deliver(entry: QueueEntry): void {
    const key = entry.message.routingKey;
    const old = this.byClient.get(key);
    const state = parse(entry.message.body);
    const empty = state === undefined || (state.inbound.length === 0 && state.release.length === 0);
    if (empty) this.byClient.delete(key);
    else this.byClient.set(key, entry);
    queueMicrotask(() => {
      if (old !== undefined) this.queue.ack(old);
      if (empty) this.queue.ack(entry);
    });
  }

  cancelledByBroker(): void {
    this.byClient.clear();
  }

  /** The listener closes: the held records go back to the queue (ready, still stored). */
  close(): void {
    if (this.queue.deleted) return;
    this.queue.removeConsumer(this);
    this.queue.requeue([...this.byClient.values()].sort((a, b) => a.seq - b.seq));
    this.byClient.clear();
  }
}

function parse(body: Buffer): Qos2State | undefined {
  try {
    const value = JSON.parse(body.toString('utf8')) as { in?: unknown; rel?: unknown };
    const ids = (list: unknown): number[] => (Array.isArray(list) ? list.filter((id): id is number => Number.isInteger(id) && id > 0 && id < 65536) : []);
    return { inbound: ids(value.in), release: ids(value.rel) };
  } catch {
    return undefined;
  }
}
