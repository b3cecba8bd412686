import type { ConsumeMessage } from 'amqplib';
import type { ConfirmChannel } from './amqp-link.js';

/**
 * Acks of one channel, sent once per tick: when the settled deliveries are the oldest outstanding
 * ones (the common case: jobs finish about in the order they came), one basic.ack with multiple=true
 * covers them all; settled ones behind a delivery still running are acked one by one. A delivery is
 * never covered by an ack before it was settled.
 */
export class AckBatcher {
  /** Delivery tags handed to us and not yet acked, in delivery order (tags increase). */
  private outstanding: number[] = [];
  private readonly settled = new Set<number>();
  private scheduled = false;

  constructor(private readonly channel: ConfirmChannel) {}

  delivered(message: ConsumeMessage): void {
    this.outstanding.push(message.fields.deliveryTag);
  }

  ack(message: ConsumeMessage): void {
    this.settled.add(message.fields.deliveryTag);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  /** A delivery given back without an ack (the channel closed): forget it. */
  forget(message: ConsumeMessage): void {
    const at = this.outstanding.indexOf(message.fields.deliveryTag);
    if (at >= 0) this.outstanding.splice(at, 1);
  }

  /** Sends the acks waiting for the end of the tick now (before the channel closes). */
  flushNow(): void {
    if (this.scheduled) this.flush();
  }

  private flush(): void {
    if (!this.scheduled) return;
    this.scheduled = false;
    let prefix = 0;
    while (prefix < this.outstanding.length && this.settled.has(this.outstanding[prefix]!)) prefix++;
    try {
      if (prefix > 0) {
        const upTo = this.outstanding[prefix - 1]!;
        for (let i = 0; i < prefix; i++) this.settled.delete(this.outstanding[i]!);
        this.outstanding = this.outstanding.slice(prefix);
        this.channel.ack(tagged(upTo), prefix > 1);
      }
      if (this.settled.size === 0) return;
      for (const tag of this.settled) this.channel.ack(tagged(tag), false);
      this.outstanding = this.outstanding.filter((tag) => !this.settled.has(tag));
      this.settled.clear();
    } catch {
      // the channel is closing: the broker gives the unacked deliveries back, the records say which finished
    }
  }
}

/** amqplib's ack reads only fields.deliveryTag. */
function tagged(deliveryTag: number): ConsumeMessage {
  return { fields: { deliveryTag } } as ConsumeMessage;
}
