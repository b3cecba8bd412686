import type { QueueEntry } from '../../broker/front-door.js';
import { preconditionFailed } from '../../broker/errors.js';
import type { QueueView } from '../../broker/queue-view.js';
import type { AmqpConsumer } from './consumer.js';
import { UnackedLedger, type UnackedVisitor } from './unacked.js';
import { emptyArray } from '../../util/empty-array.js';

/** How a delivery is settled: basic.ack, or nack/reject with or without requeue. */
export const enum Settlement {
  Ack,
  Requeue,
  Drop,
}

/** What the ack bookkeeping needs from its channel. */
export interface AckHost {
  /** A consumer's unacked count went down: the channel resumes the queues that may dispatch again. */
  credit(consumer: AmqpConsumer): void;
  /** Called once after every batch of credits. */
  afterCredit(): void;
}

/** A delivery taken out of the ledger but not yet applied to its queue (held by an open transaction). */
export interface TakenDelivery {
  readonly tag: number;
  readonly entry: QueueEntry;
  readonly queue: QueueView;
  readonly consumer: AmqpConsumer | undefined;
}

/**
 * Delivery tags and unacked deliveries of one channel: the ledger, plus settling entries with their
 * queues. The ledger walk only collects into reusable arrays; queues are touched afterwards, because a
 * requeue may dispatch straight back to this channel (and append to the ledger).
 */
export class Acknowledgements implements UnackedVisitor<AmqpConsumer> {
  private readonly ledger = new UnackedLedger<AmqpConsumer>();
  private lastTag = 0;
  /** requeueAll is giving every outstanding delivery back (not a client's nack). */
  private returningAll = false;
  private readonly tags: number[] = [];
  private readonly entries: QueueEntry[] = [];
  private readonly queues: QueueView[] = [];
  private readonly consumers: (AmqpConsumer | undefined)[] = [];

  constructor(private readonly host: AckHost) {}

  get outstanding(): number {
    return this.ledger.size;
  }

  /** Numbers a delivery; one that needs an ack is remembered. */
  assignTag(entry: QueueEntry, queue: QueueView | undefined, consumer: AmqpConsumer | undefined, noAck: boolean): number {
    const tag = ++this.lastTag;
    if (!noAck && queue !== undefined) this.ledger.push(tag, entry, queue, consumer);
    return tag;
  }

  /** The outstanding delivery with this tag (consumer-timeout extension); nothing changes. */
  lookup(tag: number): { entry: QueueEntry; queue: QueueView } | undefined {
    return this.ledger.lookup(tag);
  }

  /** basic.ack / nack / reject. Throws 406 "unknown delivery tag N" as RabbitMQ does. */
  settle(tag: number, multiple: boolean, how: Settlement): void {
    this.collect(tag, multiple);
    this.applyCollected(how);
  }

  /** tx.commit: settle what the transaction had taken out of the ledger. */
  settleTaken(taken: readonly TakenDelivery[], how: Settlement): void {
    for (const t of taken) this.visit(t.tag, t.entry, t.queue, t.consumer);
    this.applyCollected(how);
  }

  /** Inside a transaction: take deliveries out of the ledger now (unknown tags fail now), apply on commit. */
  take(tag: number, multiple: boolean): TakenDelivery[] {
    this.collect(tag, multiple);
    const taken: TakenDelivery[] = [];
    for (let i = 0; i < this.entries.length; i++) {
      taken.push({
        tag: this.tags[i] as number,
        entry: this.entries[i] as QueueEntry,
        queue: this.queues[i] as QueueView,
        consumer: this.consumers[i],
      });
    }
    this.clearCollected();
    return taken;
  }

  /** tx.rollback: deliveries taken by the transaction are outstanding again. */
  restore(taken: readonly TakenDelivery[]): void {
    for (const t of taken) this.ledger.restore(t.tag, t.entry, t.queue, t.consumer);
  }

  /** basic.recover and channel close: every outstanding delivery back to its queue, in order. */
  requeueAll(extra: readonly TakenDelivery[] = []): void {
    this.ledger.removeAll(this);
    for (const t of extra) this.visit(t.tag, t.entry, t.queue, t.consumer);
    this.returningAll = true;
    try {
      this.applyCollected(Settlement.Requeue);
    } finally {
      this.returningAll = false;
    }
  }

  visit(tag: number, entry: QueueEntry, queue: QueueView, consumer: AmqpConsumer | undefined): void {
    this.tags.push(tag);
    this.entries.push(entry);
    this.queues.push(queue);
    this.consumers.push(consumer);
  }

  private collect(tag: number, multiple: boolean): void {
    let found: boolean;
    if (multiple && tag === 0) {
      // "multiple=true with delivery tag 0 means all outstanding messages" (spec, basic.ack).
      this.ledger.removeAll(this);
      found = true;
    } else {
      found = multiple ? this.ledger.removeUpTo(tag, this) : this.ledger.removeOne(tag, this);
    }
    if (!found) throw preconditionFailed(`unknown delivery tag ${tag}`);
  }

  /** Credits consumers first (a requeued entry may go straight back to one), then tells the queues. */
  private applyCollected(how: Settlement): void {
    const n = this.entries.length;
    for (let i = 0; i < n; i++) {
      const consumer = this.consumers[i];
      if (consumer !== undefined) this.host.credit(consumer);
    }
    if (how === Settlement.Requeue) this.requeueCollected();
    else {
      for (let i = 0; i < n; i++) {
        const queue = this.queues[i] as QueueView;
        const entry = this.entries[i] as QueueEntry;
        if (how === Settlement.Ack) queue.ack(entry);
        else queue.reject(entry, false);
      }
    }
    this.clearCollected();
    this.host.afterCredit();
  }

  /** Requeue what was collected, one call per queue so each queue restores its own order. */
  private requeueCollected(): void {
    const n = this.entries.length;
    if (n === 0) return;
    const first = this.queues[0] as QueueView;
    // A single explicit nack/reject is a reject (a stream refuses it, as RabbitMQ); giving everything back
    // (channel closed, basic.recover) is always a requeue, which every queue accepts.
    if (n === 1 && !this.returningAll) {
      first.reject(this.entries[0] as QueueEntry, true);
      return;
    }
    if (this.queues.every((q) => q === first)) {
      first.requeue(this.entries.slice());
      return;
    }
    const byQueue = new Map<QueueView, QueueEntry[]>();
    for (let i = 0; i < n; i++) {
      const queue = this.queues[i] as QueueView;
      let list = byQueue.get(queue);
      if (list === undefined) byQueue.set(queue, (list = []));
      list.push(this.entries[i] as QueueEntry);
    }
    for (const [queue, list] of byQueue) queue.requeue(list);
  }

  private clearCollected(): void {
    emptyArray(this.tags);
    emptyArray(this.entries);
    emptyArray(this.queues);
    emptyArray(this.consumers);
  }
}
