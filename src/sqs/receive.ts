import type { Consumer, ConsumerDetails, QueueEntry } from '../broker/front-door.js';
import type { ConnectionView } from '../session/views.js';
import type { FieldTable } from '../broker/message.js';
import type { QueueView } from '../broker/queue-view.js';
import type { ClientGone } from './client-gone.js';

/**
 * One ReceiveMessage call as a consumer of the core's queue: it can take until it holds
 * MaxNumberOfMessages, so the queue's own dispatch hands it whatever becomes receivable (a send, a
 * delay come due, a visibility timeout expired or set to 0, an AMQP publish) the moment it does: no
 * polling, and a waiting receive costs one consumer object and one timer. FIFO order is the core's
 * message groups: a group whose messages another receive holds stays with that one until they are
 * deleted or visible again (the core's rule for a consumer that left with unacked group messages).
 */
class ReceiveConsumer implements Consumer {
  readonly noAck = false;
  readonly exclusive = false;
  readonly priority = 0;
  readonly arguments: FieldTable = {};
  /** What arrives while receives wait fills one of them up to MaxNumberOfMessages, not one each. */
  readonly fillsBatch = true;
  readonly entries: QueueEntry[] = [];
  done = false;
  cancelled = false;
  private wake: (() => void) | undefined;

  constructor(
    readonly tag: string,
    readonly owner: ConnectionView,
    private readonly max: number,
  ) {}

  canTake(): boolean {
    return !this.done && this.entries.length < this.max;
  }

  /** /api/consumers: a waiting receive under its client's row (its prefetch is MaxNumberOfMessages). */
  describe(): ConsumerDetails {
    const info = this.owner.info();
    return {
      channel: { name: info.name, number: 0, connectionName: info.name, peerHost: info.peerHost, peerPort: info.peerPort, user: info.user },
      prefetchCount: this.max,
    };
  }

  deliver(entry: QueueEntry): void {
    this.entries.push(entry);
    // Others may follow in the same dispatch (a batch send): answer on the next turn with all of them.
    if (this.entries.length === 1) setImmediate(() => this.wake?.());
  }

  cancelledByBroker(): void {
    this.cancelled = true;
    this.wake?.();
  }

  /** Resolves on the first delivery (plus the rest of its turn), a cancel, the client going away, or after `ms`. */
  waitFor(ms: number, client: ClientGone | undefined): Promise<void> {
    if (this.entries.length > 0 || this.cancelled || ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(finish, ms);
      function finish(): void {
        clearTimeout(timer);
        client?.stop();
        resolve();
      }
      this.wake = finish;
      client?.watch(finish);
    });
  }
}

export interface ReceiveOutcome {
  entries: QueueEntry[];
  /** The queue was deleted while the receive waited. */
  cancelled: boolean;
}

/**
 * Receives up to `max` entries from `queue`, waiting up to `waitMs` for the first (long polling).
 * The entries come back unacked: the caller tracks their visibility. If the client goes away while the
 * receive waits, what was received is returned to the queue.
 */
export async function receiveEntries(queue: QueueView, owner: ConnectionView, tag: string, max: number, waitMs: number, client?: ClientGone): Promise<ReceiveOutcome> {
  const consumer = new ReceiveConsumer(tag, owner, max);
  queue.addConsumer(consumer); // dispatches what is receivable now, synchronously
  try {
    if (consumer.entries.length === 0 && waitMs === 0) {
      // A durable queue's head may be on its way back from disk: short polling waits for that read only.
      await queue.whenHeadLoaded(false);
      queue.resumeDispatch();
    }
    await consumer.waitFor(waitMs, client);
  } finally {
    consumer.done = true;
    if (!queue.deleted) queue.removeConsumer(consumer);
  }
  if (client?.gone === true && consumer.entries.length > 0) {
    queue.requeue(consumer.entries);
    return { entries: [], cancelled: consumer.cancelled };
  }
  return { entries: consumer.entries, cancelled: consumer.cancelled };
}
