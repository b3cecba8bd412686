import type { QueueEntry } from '../front-door.js';
import { ConsumerTimeouts } from './consumer-timeout.js';
import { withDeliveryCount } from './delivery-limit.js';
import type { Departures } from './departures.js';
import { Entry, EntryState } from './entry.js';
import type { MessageExpiry } from './message-expiry.js';
import type { QueueState } from './queue-state.js';

/**
 * Handed-out entries until they are settled: the hand-out itself (dispatch and basic.get), ack, reject,
 * requeue, the consumer timeout that takes a late delivery back, and the delivery limit.
 */
export class Settlement {
  /** x-delivery-limit (argument or policy); undefined = none. */
  deliveryLimit: number | undefined = undefined;
  private timeouts: ConsumerTimeouts | undefined;
  private readonly takeBackLate = (entry: Entry): void => this.takeBack(entry);

  constructor(
    private readonly state: QueueState,
    private readonly departures: Pick<Departures, 'settledAfterDelivery' | 'deadLetter'>,
    private readonly expiry: Pick<MessageExpiry, 'track' | 'expireTaken'>,
    /** Message groups or deduplication by presence need to hear when an entry is settled. */
    private readonly watchesSettlement: boolean,
  ) {}

  /** An entry leaves the ready list for a consumer (or basic.get): no-ack settles it at once. */
  handOut(entry: Entry, noAck: boolean): void {
    const state = this.state;
    state.persisted?.handedOut(entry, noAck);
    entry.deliveryCount++;
    if (entry.redelivered) state.counters.redelivered++;
    state.counters.delivered++;
    if (noAck) {
      entry.state = EntryState.Settled;
      if (this.watchesSettlement) this.departures.settledAfterDelivery(entry);
    } else {
      entry.state = EntryState.Unacked;
      state.unacked++;
      if (this.timeouts !== undefined) this.timeouts.track(entry, Date.now(), state.unacked);
    }
  }

  /** basic.get (see Queue.get): the next live ready entry, handed out; expired ones met on the way leave. */
  get(noAck: boolean): QueueEntry | undefined {
    const state = this.state;
    for (;;) {
      const entry = state.ready.take();
      if (entry === undefined) return undefined;
      state.readyBytes -= entry.message.bodySize;
      if (entry.expiresAt !== 0 && entry.expiresAt < Date.now()) {
        this.expiry.expireTaken(entry);
        continue;
      }
      this.handOut(entry, noAck);
      return entry;
    }
  }

  ack(entry: QueueEntry): void {
    const own = this.state.unackedEntry(entry);
    if (own === undefined) return;
    own.state = EntryState.Settled;
    this.state.persisted?.settled(own);
    this.state.unacked--;
    this.state.counters.acked++;
    if (this.watchesSettlement) this.departures.settledAfterDelivery(own);
  }

  /** See Queue.reject. */
  reject(entry: QueueEntry, requeue: boolean): void {
    const own = this.state.unackedEntry(entry);
    if (own === undefined) return;
    if (requeue) {
      this.returnEntry(own);
      this.state.queue.resumeDispatch();
      return;
    }
    this.settleUnacked(own);
    this.state.counters.rejected++;
    this.departures.deadLetter(own.message, 'rejected');
  }

  /** See Queue.requeue. */
  requeue(entries: Iterable<QueueEntry>): void {
    const own: Entry[] = [];
    for (const entry of entries) {
      const candidate = this.state.unackedEntry(entry);
      if (candidate === undefined) continue;
      candidate.state = EntryState.Ready; // a duplicate in `entries` is then skipped
      own.push(candidate);
    }
    if (own.length === 0) return;
    // Newest first: each then lands in front of the previous one, O(1) per entry in the usual case.
    own.sort((a, b) => b.seq - a.seq);
    for (const entry of own) this.returnEntry(entry);
    this.state.queue.resumeDispatch();
  }

  /** See Queue.extendDelivery. */
  extendDelivery(entry: QueueEntry): boolean {
    const own = this.state.unackedEntry(entry);
    if (own === undefined || this.timeouts === undefined) return false;
    return this.timeouts.extend(own, Date.now(), this.state.unacked);
  }

  /** The consumer timeout in ms (0 = off) changed: applies to deliveries made from now on. */
  setConsumerTimeout(ms: number): void {
    if ((this.timeouts?.timeoutMs ?? 0) === ms) return;
    this.timeouts?.stop();
    this.timeouts = ms > 0 ? new ConsumerTimeouts(ms, this.takeBackLate) : undefined;
  }

  stop(): void {
    this.timeouts?.stop();
  }

  /** A delivered entry came back (reject/nack with requeue, recover, channel closed). */
  private returnEntry(entry: Entry): void {
    if (this.overDeliveryLimit(entry)) return this.dropOverDeliveryLimit(entry);
    entry.state = EntryState.Ready;
    entry.redelivered = true;
    this.putBackReady(entry);
    // Put back before releasing, so a message group is never forgotten while its entry is on the way back.
    if (this.watchesSettlement) this.state.ready.release(entry);
  }

  /**
   * Consumer timeout: the delivery was not settled in time. It goes back to its place as a fresh entry
   * (redelivered); the late consumer's copy is settled, so its ack or reject later is a no-op.
   */
  private takeBack(late: Entry): void {
    const state = this.state;
    if (state.deleted || late.state !== EntryState.Unacked) return;
    state.counters.timedOut++;
    state.queue.vhost.logger.debug({ queue: state.queue.name, vhost: state.queue.vhost.name, seq: late.seq }, 'consumer timeout: delivery taken back');
    const fresh = late.cloneForRequeue();
    late.state = EntryState.Settled;
    if (this.overDeliveryLimit(fresh)) {
      // The clone counts as unacked until dropOverDeliveryLimit settles it.
      fresh.state = EntryState.Unacked;
      return this.dropOverDeliveryLimit(fresh);
    }
    this.putBackReady(fresh);
    if (this.watchesSettlement) state.ready.release(late);
    state.queue.resumeDispatch();
  }

  private overDeliveryLimit(entry: Entry): boolean {
    return this.deliveryLimit !== undefined && entry.deliveryCount > this.deliveryLimit;
  }

  /** Back in the ready list, counted as requeued (x-delivery-count set where there is a delivery limit). */
  private putBackReady(entry: Entry): void {
    const state = this.state;
    state.unacked--;
    state.counters.requeued++;
    if (this.deliveryLimit !== undefined) entry.message = withDeliveryCount(entry.message, entry.deliveryCount);
    state.ready.putBack(entry);
    state.readyBytes += entry.message.bodySize;
    if (entry.expiresAt !== 0) this.expiry.track(entry);
  }

  /** x-delivery-limit: returned more often than allowed; dead-lettered (delivery_limit) or dropped. */
  private dropOverDeliveryLimit(entry: Entry): void {
    this.settleUnacked(entry);
    this.state.counters.deliveryLimited++;
    this.departures.deadLetter(entry.message, 'delivery_limit');
  }

  /** An unacked entry is settled without an ack (rejected, over the delivery limit). */
  private settleUnacked(entry: Entry): void {
    entry.state = EntryState.Settled;
    this.state.persisted?.settled(entry);
    this.state.unacked--;
    if (this.watchesSettlement) this.departures.settledAfterDelivery(entry);
  }
}
