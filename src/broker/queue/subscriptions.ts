import type { Consumer } from '../front-door.js';
import { accessRefused } from '../errors.js';
import type { Dispatcher } from './dispatcher.js';
import type { QueueState } from './queue-state.js';
import { SingleActiveConsumerSet } from './single-active-consumer.js';

/** What the queue does as its consumers come and go. */
export interface UsageEvents {
  /** A consumer is attached: the queue is in use (x-expires waits). */
  inUse(): void;
  /** The last consumer left: an auto-delete queue goes, otherwise x-expires starts counting. */
  unused(): void;
}

/**
 * The consumers attached to one queue: exclusive consumers, message groups and single-active-consumer
 * handover hearing of arrivals and departures, and the queue told when it is (no longer) in use.
 */
export class Subscriptions {
  private exclusiveConsumer: Consumer | undefined;

  constructor(
    private readonly state: QueueState,
    private readonly dispatcher: Pick<Dispatcher, 'resume' | 'resumeNextTurn'>,
    private readonly usage: UsageEvents,
  ) {}

  /** The consumer deliveries go to (x-single-active-consumer), if any. */
  get active(): Consumer | undefined {
    const roster = this.state.roster;
    return roster instanceof SingleActiveConsumerSet ? roster.active : undefined;
  }

  /** 403 when an exclusive consumer is or would be involved. */
  assertConsumable(consumer: Consumer): void {
    if (this.exclusiveConsumer !== undefined || (consumer.exclusive && this.state.roster.size !== 0)) {
      throw accessRefused(`${this.state.queue.resource} in exclusive use`);
    }
  }

  /** Attaches a consumer (access already checked) and dispatches to it at once. */
  add(consumer: Consumer): void {
    this.assertConsumable(consumer);
    this.state.roster.add(consumer);
    if (consumer.exclusive) this.exclusiveConsumer = consumer;
    this.state.grouped?.consumerAdded();
    this.usage.inUse();
    this.dispatcher.resume();
  }

  remove(consumer: Consumer): void {
    const roster = this.state.roster;
    if (!roster.remove(consumer)) return;
    this.state.grouped?.consumerGone(consumer);
    if (this.exclusiveConsumer === consumer) this.exclusiveConsumer = undefined;
    if (roster.size === 0) return this.usage.unused();
    // A single active consumer handed over. The next one starts on the next turn, so that the deliveries
    // the old one held (requeued by its closing channel right after this) go out first, in order.
    if (this.active !== undefined && !this.state.deleted) this.dispatcher.resumeNextTurn();
  }

  /** The queue is deleted: every consumer is told (basic.cancel from the broker). */
  cancelAll(): void {
    this.exclusiveConsumer = undefined;
    for (const consumer of this.state.roster.drain()) consumer.cancelledByBroker(this.state.queue);
  }
}
