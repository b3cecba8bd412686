import type { Consumer, ConsumerDetails, QueueEntry, SessionOwner } from '../broker/front-door.js';
import type { QueueView } from '../broker/queue-view.js';

export type AckMode = 'auto' | 'client' | 'client-individual';

/** What a subscription needs from its connection. */
export interface SubscriptionHost {
  readonly owner: SessionOwner;
  /** Connection-wide conditions: connected, socket writable. */
  canDeliver(): boolean;
  deliver(subscription: StompSubscription, entry: QueueEntry, queue: QueueView): void;
  cancelledByBroker(subscription: StompSubscription): void;
  readonly location: ConsumerDetails['channel'];
}

/** One delivery awaiting ACK/NACK. */
export interface Unacked {
  readonly tag: number;
  readonly entry: QueueEntry;
  readonly queue: QueueView;
}

/**
 * One SUBSCRIBE: the core's Consumer for a STOMP session. Deliveries in ack:client or
 * client-individual are held until ACK/NACK (STOMP 1.2 "SUBSCRIBE", ack header); `prefetch-count`
 * (RabbitMQ's extension header) bounds how many may be held at once.
 */
export class StompSubscription implements Consumer {
  /** Until the SUBSCRIBE's receipt is written nothing is dispatched here. */
  active = false;
  readonly exclusive = false;
  readonly priority = 0;
  readonly arguments = {};
  readonly noAck: boolean;
  /** Held deliveries by tag, in delivery order (client mode acknowledges cumulatively). */
  readonly unacked = new Map<number, Unacked>();

  constructor(
    private readonly host: SubscriptionHost,
    readonly id: string,
    /** The SUBSCRIBE's destination, echoed in MESSAGE frames of messages that have no better one. */
    readonly destination: string,
    readonly queue: QueueView,
    readonly ack: AckMode,
    readonly prefetch: number,
    /** A queue made for this subscription alone (topic or exchange, not durable): deleted with it. */
    readonly ownQueue: boolean,
  ) {
    this.noAck = ack === 'auto';
  }

  get tag(): string {
    return `T_${this.id}`;
  }

  get owner(): SessionOwner {
    return this.host.owner;
  }

  canTake(): boolean {
    return this.active && (this.noAck || this.prefetch === 0 || this.unacked.size < this.prefetch) && this.host.canDeliver();
  }

  deliver(entry: QueueEntry, queue: QueueView): void {
    this.host.deliver(this, entry, queue);
  }

  cancelledByBroker(): void {
    this.host.cancelledByBroker(this);
  }

  describe(): ConsumerDetails {
    return { channel: this.host.location, prefetchCount: this.prefetch };
  }

  /** The held deliveries an ACK/NACK of `tag` settles: that one, or (client mode) it and all before it. */
  take(tag: number): Unacked[] {
    const one = this.unacked.get(tag);
    if (one === undefined) return [];
    if (this.ack === 'client-individual') {
      this.unacked.delete(tag);
      return [one];
    }
    const taken: Unacked[] = [];
    for (const [t, held] of this.unacked) {
      if (t > tag) break;
      taken.push(held);
      this.unacked.delete(t);
    }
    return taken;
  }
}
