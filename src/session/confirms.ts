import { BarrierSet, type DurabilityBarrier } from './durability.js';

/** Where settled publishes go: the door writes its acknowledgement (AMQP: basic.ack / basic.nack). */
export interface ConfirmSink {
  confirm(deliveryTag: number, multiple: boolean, ack: boolean): void;
}

/** One wait for durability: the publishes up to `upTo`, once `done`. */
interface PendingWait {
  upTo: number;
  done: boolean;
  lost: boolean;
}

/**
 * Publisher confirms of one session (AMQP's confirm.select). Publishes are numbered from 1; they are
 * acked once every durability barrier they touched reports them durable. One wait is armed per batch
 * (after the current socket chunk has been handled), so a burst of publishes is settled by a single
 * ack with multiple=true. Waits overlap: a batch does not wait for the one before it to be settled before
 * its own wait begins (the store may run several sync rounds at once), but batches are settled in order.
 * Refused publishes (x-overflow reject-publish) are nacked, in tag order with the acks around them.
 */
export class PublisherConfirms {
  private lastTag = 0;
  private settledUpTo = 0;
  /** Tags to nack, ascending. Rare, so a plain array. */
  private readonly refused: number[] = [];
  private readonly barriers: BarrierSet;
  private armed = false;
  /** Waits begun and not yet settled, oldest first. */
  private readonly pending: PendingWait[] = [];
  private stopped = false;

  constructor(
    durability: DurabilityBarrier,
    private readonly sink: ConfirmSink,
  ) {
    this.barriers = new BarrierSet(durability);
  }

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

  /** The publish just accepted must also wait for `barrier` (it reached a queue behind it). */
  join(barrier: DurabilityBarrier): void {
    this.barriers.join(barrier);
  }

  /** The session is gone: nothing more is written. */
  stop(): void {
    this.stopped = true;
  }

  private readonly waitForDurability = (): void => {
    this.armed = false;
    if (this.stopped) return;
    const wait: PendingWait = { upTo: this.lastTag, done: false, lost: false };
    this.pending.push(wait);
    this.barriers.waitAll((lost) => {
      wait.done = true;
      wait.lost = lost;
      this.settleDone();
    });
  };

  private settleDone(): void {
    if (this.stopped) return;
    while (this.pending[0]?.done === true) {
      const wait = this.pending.shift()!;
      if (wait.lost) this.refuseUpTo(wait.upTo);
      this.settle(wait.upTo);
    }
  }

  /** Some of the batch may not be durable: every publish in it is nacked (the publisher re-sends). */
  private refuseUpTo(upTo: number): void {
    const already = new Set(this.refused);
    for (let tag = this.settledUpTo + 1; tag <= upTo; tag++) if (!already.has(tag)) this.refused.push(tag);
    this.refused.sort((a, b) => a - b);
  }

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
