import type { Broker } from '../../broker/broker.js';

/** Where settled publishes go: the channel writes basic.ack / basic.nack. */
export interface ConfirmSink {
  confirm(deliveryTag: number, multiple: boolean, ack: boolean): void;
}

/**
 * Publisher confirms of one channel (confirm.select). Publishes are numbered from 1; they are acked
 * once the broker reports everything accepted so far durable. One `whenDurable` wait is armed per
 * batch (after the current socket chunk has been handled), so a burst of publishes is settled by a
 * single basic.ack with multiple=true. Refused publishes (x-overflow reject-publish) are nacked, in
 * tag order with the acks around them.
 */
export class PublisherConfirms {
  private lastTag = 0;
  private settledUpTo = 0;
  /** Tags to nack, ascending. Rare, so a plain array. */
  private readonly refused: number[] = [];
  private armed = false;
  private waitingUpTo = 0;
  private stopped = false;

  constructor(
    private readonly broker: Broker,
    private readonly sink: ConfirmSink,
  ) {}

  /** Numbers one publish; returns its confirm tag. */
  accept(refused: boolean): number {
    const tag = ++this.lastTag;
    if (refused) this.refused.push(tag);
    if (!this.armed) {
      this.armed = true;
      queueMicrotask(this.waitForDurability);
    }
    return tag;
  }

  /** The channel is gone: nothing more is written. */
  stop(): void {
    this.stopped = true;
  }

  private readonly waitForDurability = (): void => {
    if (this.stopped) return;
    this.waitingUpTo = this.lastTag;
    this.broker.whenDurable(this.onDurable);
  };

  private readonly onDurable = (): void => {
    if (this.stopped) return;
    this.settle(this.waitingUpTo);
    if (this.lastTag > this.settledUpTo) this.waitForDurability();
    else this.armed = false;
  };

  private settle(upTo: number): void {
    let from = this.settledUpTo + 1;
    while (this.refused.length > 0 && (this.refused[0] as number) <= upTo) {
      const nackTag = this.refused.shift() as number;
      if (nackTag > from) this.sink.confirm(nackTag - 1, nackTag - 1 > from, true);
      this.sink.confirm(nackTag, false, false);
      from = nackTag + 1;
    }
    if (upTo >= from) this.sink.confirm(upTo, upTo > from, true);
    this.settledUpTo = upTo;
  }
}
