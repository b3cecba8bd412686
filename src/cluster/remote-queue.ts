import type { DurabilityBarrier } from '../broker/durability.js';
import { BrokerErrorKind } from '../broker/errors.js';
import type { Consumer, QueueEntry } from '../broker/front-door.js';
import type { Message } from '../broker/message.js';
import type { QueueFigures, RemoteOwner, RemoteSettlement } from '../broker/queue/remote-owner.js';
import type { QueueView } from '../broker/queue-view.js';
import { Settle } from './link/frames.js';
import type { OwnerLink } from './link/owner-link.js';

/** How often a subscription that ended (link lost, or refused as not the owner's queue yet) is retried. */
const RESUBSCRIBE_MS = 50;
/** How long: after that the ownership poll (retarget) and the link's return (linkUp) resubscribe. */
const RESUBSCRIBE_TRIES = 100;

/** Credit a consumer without a prefetch limit gets from the owner at a time. */
const UNLIMITED_WINDOW = 1000;

/** A delivery the owner made to a consumer here. */
export class RemoteEntry implements QueueEntry {
  constructor(
    readonly seq: number,
    readonly message: Message,
    public redelivered: boolean,
    public deliveryCount: number,
    readonly from: OwnerLink,
    readonly sub: number,
    readonly delivery: number,
    readonly remote: RemoteQueue,
  ) {}
}

/** Where the owner's links come from (ClusterNode). */
export interface OwnerLinks {
  linkTo(node: string): OwnerLink | undefined;
  /** The owner cannot be reached or refused as not its queue: it may have moved; read the table now. */
  ownerInDoubt(): void;
}

interface Subscription {
  /** Undefined while no link to the owner is up (remade by retarget / linkUp). */
  link: OwnerLink | undefined;
  sub: number;
  /** Deliveries that arrived while the consumer could not take them (socket back-pressure). */
  readonly waiting: RemoteEntry[];
}

/** Confirms of messages forwarded while no link to the owner is up are nacks. */
const NO_OWNER: DurabilityBarrier = { whenDurable: (callback) => callback(true) };

/**
 * A queue's work while another node owns it (RemoteOwner): routed messages are forwarded over the
 * link to the owner; each consumer attached here gets a subscription there, with as much credit as its
 * prefetch leaves room for, so the owner's dispatch (round-robin, priorities, groups, single active
 * consumer) stays the only one; settlements and credit flow back. When the owner changes (a failover)
 * or its link comes back, subscriptions are made again there: consumers here keep consuming without
 * resubscribing. Deliveries of a lost link are not settled any more: the next owner redelivers them.
 */
export class RemoteQueue implements RemoteOwner {
  private readonly subscriptions = new Map<Consumer, Subscription>();
  private got: RemoteEntry | undefined;
  private fetching: Promise<void> | undefined;
  private gotEmpty = false;
  private seq = 0;
  private detached = false;

  constructor(
    private readonly queue: QueueView,
    private owner: string,
    private readonly links: OwnerLinks,
  ) {}

  get ownerName(): string {
    return this.owner;
  }

  private get link(): OwnerLink | undefined {
    return this.links.linkTo(this.owner);
  }

  // ---- publishing -------------------------------------------------------------------------------

  enqueue(message: Message): boolean {
    const link = this.link;
    if (link === undefined) {
      this.links.ownerInDoubt();
      return false;
    }
    link.enqueue(this.queue.vhost.name, this.queue.name, message);
    return true;
  }

  get durability(): DurabilityBarrier {
    return this.link ?? NO_OWNER;
  }

  // ---- consumers --------------------------------------------------------------------------------

  consumerAdded(consumer: Consumer): void {
    this.subscribe(consumer);
  }

  consumerRemoved(consumer: Consumer): void {
    const subscription = this.subscriptions.get(consumer);
    if (subscription === undefined) return;
    this.subscriptions.delete(consumer);
    subscription.link?.cancel(subscription.sub);
  }

  resume(): void {
    for (const [consumer, subscription] of this.subscriptions) this.handOver(consumer, subscription);
  }

  /** The owner moved, or its link came back: every consumer here subscribes there again. */
  retarget(owner: string): void {
    this.owner = owner;
    if (this.detached) return;
    for (const consumer of [...this.subscriptions.keys()]) this.subscribe(consumer);
  }

  /** The owner's link is up again (same owner). */
  linkUp(): void {
    this.retarget(this.owner);
  }

  private subscribe(consumer: Consumer): void {
    const old = this.subscriptions.get(consumer);
    if (old?.link !== undefined && !old.link.broken) old.link.cancel(old.sub);
    this.subscriptions.delete(consumer);
    const link = this.link;
    if (link === undefined || this.detached) return void this.subscriptions.set(consumer, { link: undefined, sub: 0, waiting: [] });
    const subscription: Subscription = { link, sub: 0, waiting: [] };
    subscription.sub = link.subscribe(
      {
        vhost: this.queue.vhost.name,
        queue: this.queue.name,
        tag: consumer.tag,
        noAck: consumer.noAck,
        exclusive: consumer.exclusive,
        priority: consumer.priority,
        credit: creditFor(consumer),
        arguments: consumer.arguments,
      },
      {
        delivered: (delivery, redelivered, deliveryCount, message) => {
          const entry = new RemoteEntry(++this.seq, message, redelivered, deliveryCount, link, subscription.sub, delivery, this);
          subscription.waiting.push(entry);
          this.handOver(consumer, subscription);
        },
        ended: (reason) => {
          // Resubscribed when the link or the next owner comes (retarget, linkUp); waiting ones are void.
          subscription.waiting.length = 0;
          // The owner died (the queue is moving), or the node this one believes owns the queue does not
          // yet (it has not read the move that made it the owner): read the table and ask again soon,
          // rather than at the next ownership poll.
          if (reason.kind === BrokerErrorKind.NotFound || reason.kind === 'link-lost') this.subscribeLater(consumer, subscription, RESUBSCRIBE_TRIES);
        },
      },
    );
    this.subscriptions.set(consumer, subscription);
  }

  private subscribeLater(consumer: Consumer, ended: Subscription, tries: number): void {
    this.links.ownerInDoubt();
    const timer = setTimeout(() => {
      if (this.detached || this.subscriptions.get(consumer) !== ended) return; // resubscribed meanwhile
      if (this.link !== undefined) this.subscribe(consumer);
      else if (tries > 1) this.subscribeLater(consumer, ended, tries - 1);
    }, RESUBSCRIBE_MS);
    timer.unref();
  }

  private handOver(consumer: Consumer, subscription: Subscription): void {
    while (subscription.waiting.length !== 0 && consumer.canTake()) {
      const entry = subscription.waiting.shift()!;
      consumer.deliver(entry, this.queue);
      if (consumer.noAck) subscription.link?.credit(subscription.sub, 1);
    }
  }

  // ---- basic.get --------------------------------------------------------------------------------

  takeGot(): QueueEntry | undefined {
    const got = this.got;
    this.got = undefined;
    return got;
  }

  fetch(noAck: boolean): Promise<void> | undefined {
    if (this.gotEmpty) {
      this.gotEmpty = false;
      return undefined;
    }
    const link = this.link;
    if (link === undefined) return undefined;
    this.fetching ??= link
      .get(this.queue.vhost.name, this.queue.name, noAck)
      .then((answer) => {
        if (answer === undefined) this.gotEmpty = true;
        else this.got = new RemoteEntry(++this.seq, answer.message, answer.redelivered, answer.deliveryCount, link, 0, answer.delivery, this);
      })
      .catch(() => void (this.gotEmpty = true))
      .finally(() => (this.fetching = undefined));
    return this.fetching;
  }

  // ---- settlements ------------------------------------------------------------------------------

  owns(entry: QueueEntry): boolean {
    return entry instanceof RemoteEntry && entry.remote === this;
  }

  settle(entry: QueueEntry, how: RemoteSettlement): void {
    if (!(entry instanceof RemoteEntry) || entry.from.broken) return;
    entry.from.settle(entry.sub, entry.delivery, how === 'ack' ? Settle.Ack : how === 'reject' ? Settle.Reject : Settle.Requeue);
    if (entry.sub !== 0) entry.from.credit(entry.sub, 1);
  }

  purge(): Promise<number> {
    const link = this.link;
    return link === undefined ? Promise.resolve(0) : link.purge(this.queue.vhost.name, this.queue.name);
  }

  figures(): QueueFigures {
    return this.link?.figuresOf(this.queue.vhost.name, this.queue.name) ?? { ready: 0, unacked: 0, consumers: 0, bytes: 0 };
  }

  detach(): void {
    this.detached = true;
    for (const subscription of this.subscriptions.values()) if (subscription.link?.broken === false) subscription.link.cancel(subscription.sub);
    this.subscriptions.clear();
  }
}

function creditFor(consumer: Consumer): number {
  const prefetch = consumer.describe?.().prefetchCount ?? 0;
  return consumer.noAck || prefetch === 0 ? UNLIMITED_WINDOW : prefetch;
}
