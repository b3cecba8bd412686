import type { Consumer } from '../front-door.js';
import type { DispatchLimits } from './dispatch-limits.js';
import type { Entry } from './entry.js';
import type { MessageExpiry } from './message-expiry.js';
import type { QueueState } from './queue-state.js';
import type { Settlement } from './settlement.js';

/**
 * Most entries one dispatch pass hands out before yielding to the event loop (a consumer with no
 * prefetch limit attaching to a large backlog must not stall every other connection).
 */
export const DISPATCH_BATCH = 512;

/**
 * The dispatch loop: ready entries to consumers that can take them, round-robin by priority (or, with
 * message groups, as the groups allow), at most DISPATCH_BATCH per pass. When no consumer can take, the
 * queue stalls until resume() instead of asking per message.
 */
export class Dispatcher {
  /** Every consumer declined (canTake false): wait for resume instead of asking per message. */
  private stalled = false;
  private dispatching = false;
  /** x-dispatch-rate-limit / x-max-in-flight (dispatch-limits.ts); undefined on most queues. */
  limits: DispatchLimits | undefined = undefined;
  private continuation: NodeJS.Immediate | undefined;
  private readonly continueDispatch = (): void => {
    this.continuation = undefined;
    this.dispatch();
  };

  constructor(
    private readonly state: QueueState,
    private readonly settlement: Pick<Settlement, 'handOut'>,
    private readonly expiry: Pick<MessageExpiry, 'expireTaken'>,
  ) {}

  /** An entry was just made ready: dispatch now unless the queue is stalled, busy or without consumers. */
  offer(): void {
    if (!this.stalled && !this.dispatching && this.continuation === undefined && this.state.roster.size !== 0) {
      this.dispatch();
    }
  }

  /** A consumer may take more now (ack freed prefetch, socket drained, flow resumed, consumer added). */
  resume(): void {
    this.stalled = false;
    if (this.state.ready.hasDeliverable() && this.state.roster.size !== 0) this.dispatch();
  }

  /** Dispatch on the next turn (a single active consumer handed over: what the old one held goes first). */
  resumeNextTurn(): void {
    this.stalled = false;
    this.continuation ??= setImmediate(this.continueDispatch);
  }

  /** Cancels a pending continuation (broker stopping, queue deleted). */
  stop(): void {
    if (this.continuation !== undefined) {
      clearImmediate(this.continuation);
      this.continuation = undefined;
    }
  }

  private dispatch(): void {
    const state = this.state;
    if (this.dispatching || state.deleted) return;
    this.dispatching = true;
    try {
      let budget = DISPATCH_BATCH;
      // A grouped queue asks takeNext directly: whether anything is deliverable depends on who has room.
      while (state.grouped !== undefined || state.ready.hasDeliverable()) {
        if (budget-- === 0) {
          this.continuation ??= setImmediate(this.continueDispatch);
          return;
        }
        // Held by a queue-level limit: it resumes dispatch itself (timer) or a settlement does.
        if (this.limits !== undefined && !this.limits.allows(state.unacked)) return;
        const grouped = state.grouped;
        let consumer: Consumer | undefined;
        let entry: Entry | undefined;
        if (grouped === undefined) {
          consumer = state.roster.pick();
          entry = consumer === undefined ? undefined : state.ready.take();
        } else {
          entry = grouped.takeNext(state.roster);
          consumer = grouped.taker;
        }
        if (entry === undefined || consumer === undefined) {
          // Grouped work that only full owners may take does not stall a queue whose other consumers
          // have room: a new message of a free group must still reach them.
          this.stalled = grouped === undefined || grouped.hasFreeWork();
          return;
        }
        state.readyBytes -= entry.message.bodySize;
        if (entry.expiresAt !== 0 && entry.expiresAt < Date.now()) {
          this.expiry.expireTaken(entry);
          continue;
        }
        this.settlement.handOut(entry, consumer.noAck);
        this.limits?.took();
        consumer.deliver(entry, state.queue);
        if (state.deleted) return;
      }
    } finally {
      this.dispatching = false;
    }
  }
}
