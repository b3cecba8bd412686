import type { Message, FieldTable } from './message.js';
import type { QueueView } from './queue-view.js';

/**
 * One copy of a message in one queue. The queue owns it while it is ready; while it is delivered and
 * not yet acknowledged, the consumer side (an AMQP channel) holds it and hands it back with ack/reject.
 */
export interface QueueEntry {
  /** Position in the queue: strictly increasing per queue; requeued entries go back by this order. */
  readonly seq: number;
  readonly message: Message;
  /** Set once the entry has been delivered and come back (AMQP's redelivered flag). */
  redelivered: boolean;
  /** How many times it has been handed out (what x-delivery-limit counts). */
  deliveryCount: number;
}

/** Identity of a client connection, for exclusive queues and exclusive consumers. Compared by reference. */
export interface SessionOwner {
  /** For reply texts and logs, e.g. "127.0.0.1:53412 -> 127.0.0.1:5672". */
  readonly name: string;
}

/**
 * What a queue dispatches to. Implemented by each front door (the AMQP channel's consumer); the queue
 * never sees delivery tags or frames.
 */
export interface Consumer {
  readonly tag: string;
  /** The queue forgets an entry as soon as it is delivered to a no-ack consumer. */
  readonly noAck: boolean;
  readonly exclusive: boolean;
  /** x-priority argument; higher is served first while it has capacity. Default 0. */
  readonly priority: number;
  readonly arguments: FieldTable;
  readonly owner: SessionOwner;
  /**
   * Takes deliveries in batches (an SQS ReceiveMessage answers once, with up to N messages): dispatch
   * keeps handing it entries while it can take, before round-robin moves on to the next consumer of its
   * priority level. Unset: one entry per consumer in turn (AMQP's round-robin).
   */
  readonly fillsBatch?: boolean;
  /**
   * Whether one more delivery may be made now: prefetch (per consumer and per channel), channel flow,
   * socket back-pressure. When this turns true again the consumer side calls `queue.resumeDispatch()`.
   */
  canTake(): boolean;
  /** Hand over one entry. Called synchronously from the queue's dispatch loop. */
  deliver(entry: QueueEntry, queue: QueueView): void;
  /** The broker ended this consumer (its queue was deleted): tell the client (basic.cancel). */
  cancelledByBroker(queue: QueueView): void;
  /** For the management API's consumer list: where it consumes from and its prefetch (none: not shown). */
  describe?(): ConsumerDetails;
}

/** A consumer as /api/consumers shows it. */
export interface ConsumerDetails {
  /** The channel it was created on; undefined for consumers that belong to no client channel. */
  readonly channel:
    | { readonly name: string; readonly number: number; readonly connectionName: string; readonly peerHost: string; readonly peerPort: number; readonly user: string | undefined }
    | undefined;
  /** Most unacknowledged deliveries it may hold; 0 = no limit. */
  readonly prefetchCount: number;
}
