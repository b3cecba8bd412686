import type { DurabilityBarrier } from '../durability.js';
import type { Consumer, QueueEntry } from '../front-door.js';
import type { Message } from '../message.js';

/** A queue's figures as its owner reports them (for listings and flow control on other nodes). */
export interface QueueFigures {
  readonly ready: number;
  readonly unacked: number;
  readonly consumers: number;
  readonly bytes: number;
}

/** How a delivery made elsewhere is settled (AMQP ack, reject, nack with requeue). */
export type RemoteSettlement = 'ack' | 'reject' | 'requeue';

/**
 * Where a queue's work goes while another cluster node owns it (src/cluster implements it). The queue
 * keeps its identity here (bindings, policies, the consumers attached on this node), so routing and
 * every front door work on it as on any queue; what needs the messages is handed to the owner: routed
 * messages are forwarded, consumers are served from the owner, settlements go back to it. When the
 * queue's ownership comes to this node, the queue loads its messages and stops using this.
 */
export interface RemoteOwner {
  /** The node that owns the queue now (the `node` field of /api/queues). */
  readonly ownerName: string;
  /** Forwards a routed message. False when it cannot be taken (then the publisher is nacked). */
  enqueue(message: Message): boolean;
  /** What a confirm of a forwarded message waits for. */
  readonly durability: DurabilityBarrier;
  /** A consumer attached here: the owner serves it (deliveries come to `consumer.deliver`). */
  consumerAdded(consumer: Consumer): void;
  consumerRemoved(consumer: Consumer): void;
  /** Consumers here may take more (acks freed prefetch, sockets drained). */
  resume(): void;
  /** basic.get: an answer the owner already gave, if any. */
  takeGot(noAck: boolean): QueueEntry | undefined;
  /** basic.get found nothing here: asks the owner; resolves when its answer is in (then takeGot again). */
  fetch(noAck: boolean): Promise<void> | undefined;
  /** Whether `entry` is a delivery this owner made; then `settle` it. */
  owns(entry: QueueEntry): boolean;
  settle(entry: QueueEntry, how: RemoteSettlement): void;
  /** Drops the owner's ready messages; resolves to how many. */
  purge(): Promise<number>;
  /** The owner's latest figures. */
  figures(): QueueFigures;
  /** The queue is no longer served from there (it is local now, or deleted): cancel what is running. */
  detach(): void;
}
