import type { Message } from '../message.js';
import { deadLetteredMessage, type DeadLetterTarget, type DeathReason } from './dead-letter.js';
import type { Entry } from './entry.js';
import type { QueueState } from './queue-state.js';

/**
 * Entries leaving a queue for good, whatever took them: those that leave while ready (expired, dropped
 * by a length limit) lose their stored copy and are dead-lettered; those settled after a delivery
 * (acked, rejected, delivered no-ack) free their message group and deduplication id.
 */
export class Departures {
  /** x-dead-letter-exchange / -routing-key (argument or policy); undefined = dropped. */
  deadLetterTarget: DeadLetterTarget | undefined = undefined;
  /** A settlement freed a message group; one resume at the end of the current task serves them all. */
  private resumePending = false;
  private readonly resumeSettled = (): void => {
    this.resumePending = false;
    if (!this.state.deleted) this.state.queue.resumeDispatch();
  };

  constructor(private readonly state: QueueState) {}

  /** A handed-out entry is done with (acked, rejected, delivered no-ack): groups and dedup hear of it. */
  settledAfterDelivery(entry: Entry): void {
    this.state.ready.release(entry);
    this.state.forgetDuplicate(entry.message);
    // A message group may be free now. Consumers' acks resume dispatch after their whole ack frame, but
    // basic.get acks and no-ack deliveries do not: one resume after the current task (a microtask) covers
    // every group a frame or a dispatch pass freed, instead of a dispatch pass per settled message.
    if (this.state.grouped !== undefined && !this.resumePending) {
      this.resumePending = true;
      queueMicrotask(this.resumeSettled);
    }
  }

  /** A ready entry (already marked settled and out of the ready list) leaves without being delivered. */
  leftWhileReady(entry: Entry, reason: DeathReason): void {
    this.state.persisted?.settled(entry);
    this.state.forgetDuplicate(entry.message);
    this.deadLetter(entry.message, reason);
  }

  /** Republished to the dead-letter exchange with x-death, if the queue has one. */
  deadLetter(message: Message, reason: DeathReason): void {
    const target = this.deadLetterTarget;
    if (target === undefined) return;
    const queue = this.state.queue;
    this.state.counters.deadLettered++;
    queue.vhost.publishDeadLetter(deadLetteredMessage(message, reason, queue.name, target, Date.now()), reason);
  }
}
