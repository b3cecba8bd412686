import type { QueueEntry } from '../front-door.js';
import { withDeliveryCount } from './delivery-limit.js';
import { Entry, EntryState } from './entry.js';
import { EnqueuingQueue } from './queue-enqueue.js';

/**
 * Settlement of handed-out entries: basic.get, ack, reject, requeue, consumer timeout take-back and the
 * delivery limit.
 */
export abstract class SettlingQueue extends EnqueuingQueue {
  /** basic.get: the next ready entry. With noAck it is settled at once; otherwise the caller acks it. */
  get(noAck: boolean): QueueEntry | undefined {
    if (this.deletedFlag) return undefined;
    this.idleExpiry?.touch();
    for (;;) {
      const entry = this.ready.take();
      if (entry === undefined) return undefined;
      this.readyBodyBytes -= entry.message.bodySize;
      if (entry.expiresAt !== 0 && entry.expiresAt < Date.now()) {
        this.expireTaken(entry);
        continue;
      }
      this.markHandedOut(entry, noAck);
      return entry;
    }
  }

  ack(entry: QueueEntry): void {
    const own = this.unackedEntry(entry);
    if (own === undefined) return;
    own.state = EntryState.Settled;
    this.persisted?.settled(own);
    this.unacked--;
    this.counters.acked++;
    if (this.watchesSettlement) this.settledAfterDelivery(own);
  }

  /**
   * requeue=true: back to its original place, redelivered (unless the delivery limit is reached).
   * false: dead-lettered (reason rejected) or dropped.
   */
  reject(entry: QueueEntry, requeue: boolean): void {
    const own = this.unackedEntry(entry);
    if (own === undefined) return;
    if (requeue) {
      this.returnEntry(own);
      this.resumeDispatch();
      return;
    }
    own.state = EntryState.Settled;
    this.persisted?.settled(own);
    this.unacked--;
    this.counters.rejected++;
    if (this.watchesSettlement) this.settledAfterDelivery(own);
    this.deadLetter(own.message, 'rejected');
  }

  /** Many entries back at once (channel closed, basic.recover), each to its original place. */
  requeue(entries: Iterable<QueueEntry>): void {
    const own: Entry[] = [];
    for (const entry of entries) {
      const candidate = this.unackedEntry(entry);
      if (candidate === undefined) continue;
      candidate.state = EntryState.Ready; // a duplicate in `entries` is then skipped
      own.push(candidate);
    }
    if (own.length === 0) return;
    // Newest first: each then lands in front of the previous one, O(1) per entry in the usual case.
    own.sort((a, b) => b.seq - a.seq);
    for (const entry of own) this.returnEntry(entry);
    this.resumeDispatch();
  }

  /**
   * Consumer timeout extension: the unacked delivery `entry` gets the full timeout again from now.
   * False when the queue has no consumer timeout or the entry is not an unacked delivery of this queue.
   */
  extendDelivery(entry: QueueEntry): boolean {
    const own = this.unackedEntry(entry);
    if (own === undefined || this.timeouts === undefined) return false;
    return this.timeouts.extend(own, Date.now(), this.unacked);
  }

  /** A delivered entry came back (reject/nack with requeue, recover, channel closed). */
  protected returnEntry(entry: Entry): void {
    if (this.deliveryLimit !== undefined && entry.deliveryCount > this.deliveryLimit) {
      this.dropOverDeliveryLimit(entry);
      return;
    }
    entry.state = EntryState.Ready;
    entry.redelivered = true;
    this.unacked--;
    this.counters.requeued++;
    if (this.deliveryLimit !== undefined) entry.message = withDeliveryCount(entry.message, entry.deliveryCount);
    this.putBackReady(entry);
    // Put back before releasing, so a message group is never forgotten while its entry is on the way back.
    if (this.watchesSettlement) this.ready.release(entry);
  }

  protected putBackReady(entry: Entry): void {
    this.ready.putBack(entry);
    this.readyBodyBytes += entry.message.bodySize;
    if (entry.expiresAt !== 0) this.trackExpiry(entry);
  }

  /** x-delivery-limit: returned more often than allowed; dead-lettered (delivery_limit) or dropped. */
  protected dropOverDeliveryLimit(entry: Entry): void {
    entry.state = EntryState.Settled;
    this.persisted?.settled(entry);
    this.unacked--;
    this.counters.deliveryLimited++;
    if (this.watchesSettlement) this.settledAfterDelivery(entry);
    this.deadLetter(entry.message, 'delivery_limit');
  }

  /**
   * Consumer timeout: the delivery was not settled in time. It goes back to its place as a fresh entry
   * (redelivered); the late consumer's copy is settled, so its ack or reject later is a no-op.
   */
  protected takeBack(late: Entry): void {
    if (this.deletedFlag || late.state !== EntryState.Unacked) return;
    this.counters.timedOut++;
    this.vhost.logger.debug({ queue: this.name, vhost: this.vhost.name, seq: late.seq }, 'consumer timeout: delivery taken back');
    const fresh = late.cloneForRequeue();
    late.state = EntryState.Settled;
    if (this.deliveryLimit !== undefined && fresh.deliveryCount > this.deliveryLimit) {
      this.dropOverDeliveryLimit(lateCopyUnacked(fresh));
      return;
    }
    this.unacked--;
    this.counters.requeued++;
    if (this.deliveryLimit !== undefined) fresh.message = withDeliveryCount(fresh.message, fresh.deliveryCount);
    this.putBackReady(fresh);
    if (this.watchesSettlement) this.ready.release(late);
    this.resumeDispatch();
  }
}

/** The clone of a taken-back delivery counts as unacked until dropOverDeliveryLimit settles it. */
function lateCopyUnacked(fresh: Entry): Entry {
  fresh.state = EntryState.Unacked;
  return fresh;
}
