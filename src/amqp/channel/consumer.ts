import type { Consumer, ConsumerDetails, QueueEntry, SessionOwner } from '../../broker/front-door.js';
import type { FieldTable } from '../../broker/message.js';
import type { QueueView } from '../../broker/queue-view.js';

/** What a consumer needs from its channel; implemented by Channel. */
export interface ConsumerChannel {
  /** Channel-wide conditions: open, flow active, socket writable, global prefetch (ack mode only). */
  channelCanTake(noAck: boolean): boolean;
  deliverTo(consumer: AmqpConsumer, entry: QueueEntry, queue: QueueView): void;
  consumerCancelledByBroker(consumer: AmqpConsumer, queue: QueueView): void;
  /** Where this channel is, for the management API's consumer list. */
  readonly location: ConsumerDetails['channel'];
}

/**
 * One basic.consume: the core's Consumer as an AMQP channel implements it. Prefetch counts only
 * deliveries awaiting ack (no-ack consumers have no limit, as in RabbitMQ).
 */
export class AmqpConsumer implements Consumer {
  /** Deliveries to this consumer still awaiting ack/nack/reject. */
  unacked = 0;
  /** Until consume-ok is written the queue must not dispatch here (spec: consume-ok precedes deliveries). */
  active = false;
  readonly arguments: FieldTable;

  constructor(
    private readonly channel: ConsumerChannel,
    /** Undefined for the direct reply-to pseudo-consumer, which is fed by the vhost, not a queue. */
    readonly queue: QueueView | undefined,
    readonly tag: string,
    readonly noAck: boolean,
    readonly exclusive: boolean,
    readonly priority: number,
    args: FieldTable,
    readonly owner: SessionOwner,
    /** basic.qos prefetch-count with global=false when the consumer was created; 0 = unlimited. */
    readonly prefetch: number,
  ) {
    this.arguments = args;
  }

  canTake(): boolean {
    return (
      this.active &&
      (this.noAck || this.prefetch === 0 || this.unacked < this.prefetch) &&
      this.channel.channelCanTake(this.noAck)
    );
  }

  deliver(entry: QueueEntry, queue: QueueView): void {
    this.channel.deliverTo(this, entry, queue);
  }

  cancelledByBroker(queue: QueueView): void {
    this.channel.consumerCancelledByBroker(this, queue);
  }

  describe(): ConsumerDetails {
    return { channel: this.channel.location, prefetchCount: this.prefetch };
  }
}
