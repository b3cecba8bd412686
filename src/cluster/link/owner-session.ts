import type { Logger } from 'pino';
import { BrokerError, BrokerErrorKind } from '../../broker/errors.js';
import type { Consumer, ConsumerDetails, QueueEntry, SessionOwner } from '../../broker/front-door.js';
import type { FieldTable } from '../../broker/message.js';
import type { MessageHeaderCodec } from '../../broker/persistence/message-header.js';
import { fieldTableFromJson } from '../../broker/persistence/field-json.js';
import type { Queue } from '../../broker/queue.js';
import { BarrierSet, type DurabilityBarrier } from '../../session/durability.js';
import { FrameBuilder, type FrameReader } from './codec.js';
import type { LinkConnection } from './connection.js';
import { Frame, Settle } from './frames.js';
import type { SubscribeRequest } from './owner-link.js';

/** What the owner side needs of its node: the queues it owns here, and what makes them durable. */
export interface OwnedQueues {
  /** The queue, if this node owns it now; undefined otherwise (the client then looks again). */
  owned(vhost: string, name: string): Queue | undefined;
  /** The barrier a queue's messages become durable behind, beyond the broker's own (a replicated store). */
  extraBarrier(queue: Queue): DurabilityBarrier | undefined;
  readonly broker: DurabilityBarrier;
  readonly headers: MessageHeaderCodec;
  readonly logger: Logger;
}

/**
 * The owner's end of one link from another node (the "client" node): it enqueues what the client's
 * publishers routed here and answers with durability, runs the client's consumers as consumers of the
 * local queues (credit-based, so the client never holds more than its consumers can take), and serves
 * basic.get and purge. When the link goes, its consumers go and what they held is requeued.
 */
export class OwnerSession implements SessionOwner {
  readonly name: string;
  private readonly subscriptions = new Map<number, LinkConsumer>();
  /** basic.get deliveries awaiting settlement, by delivery id. */
  private readonly gotten = new Map<number, { queue: Queue; entry: QueueEntry }>();
  private nextDelivery = 1;
  private durableArmed = false;
  private enqueuedUpTo = 0;
  private readonly barriers: BarrierSet;

  constructor(
    private readonly link: LinkConnection,
    private readonly node: OwnedQueues,
  ) {
    this.name = `node link from ${link.peer?.node ?? '?'}`;
    this.barriers = new BarrierSet(node.broker);
    link.onFrames((type, frame) => this.onFrame(type, frame));
    link.onClose(() => this.closed());
    link.socket.on('drain', () => this.resumeAll());
  }

  get peerNode(): string {
    return this.link.peer?.node ?? '?';
  }

  /** Ends the link (this node stops). */
  close(): void {
    this.link.close();
  }

  /** Every delivery id is unique on the link, whichever subscription it belongs to. */
  takeDeliveryId(): number {
    return this.nextDelivery++;
  }

  send(frame: Buffer): void {
    this.link.write(frame);
  }

  /** A message's exchange, routing key, publish time and properties, as the link carries them. */
  encodeHeader(message: QueueEntry['message']): Buffer {
    return this.node.headers.encode(message);
  }

  get writable(): boolean {
    return this.link.writable;
  }

  private onFrame(type: number, frame: FrameReader): void {
    switch (type) {
      case Frame.Enqueue:
        return this.enqueue(frame);
      case Frame.Subscribe:
        return this.subscribe(frame);
      case Frame.Credit:
        return this.credit(frame);
      case Frame.Settle:
        return this.settle(frame);
      case Frame.Cancel:
        return this.cancel(frame.f64());
      case Frame.Get:
        return void this.get(frame);
      case Frame.Purge:
        return this.purge(frame);
      default:
        this.node.logger.warn({ type }, `unknown node link frame ${type} ignored`);
    }
  }

  // ---- publishing -------------------------------------------------------------------------------

  private enqueue(frame: FrameReader): void {
    const seq = frame.f64();
    const queue = this.node.owned(frame.string(), frame.string());
    const header = frame.bytes();
    const body = frame.bytes();
    const message = queue === undefined ? undefined : this.node.headers.decode(header, body);
    if (queue === undefined || message === undefined || !queue.enqueue(message)) {
      this.node.logger.debug({ seq, owned: queue !== undefined }, 'forwarded message refused');
      this.send(new FrameBuilder(Frame.Refused, 8).f64(seq).finish());
    } else {
      const extra = this.node.extraBarrier(queue);
      if (extra !== undefined) this.barriers.join(extra);
    }
    this.enqueuedUpTo = seq;
    this.armDurable();
  }

  /** One Durable answer per batch: after the turn's enqueues, once every barrier they touched is done. */
  private armDurable(): void {
    if (this.durableArmed) return;
    this.durableArmed = true;
    queueMicrotask(() => {
      const upTo = this.enqueuedUpTo;
      this.barriers.waitAll(() => {
        this.send(new FrameBuilder(Frame.Durable, 8).f64(upTo).finish());
        this.durableArmed = false;
        if (this.enqueuedUpTo > upTo) this.armDurable();
      });
    });
  }

  // ---- consuming --------------------------------------------------------------------------------

  private subscribe(frame: FrameReader): void {
    const sub = frame.f64();
    const vhost = frame.string();
    const name = frame.string();
    const options = {
      tag: frame.string(),
      noAck: frame.bool(),
      exclusive: frame.bool(),
      priority: frame.f64(),
      credit: frame.f64(),
      arguments: fieldTableFromJson(JSON.parse(frame.string())) as FieldTable,
    };
    const queue = this.node.owned(vhost, name);
    if (queue === undefined) return this.subscribeFailed(sub, new BrokerError(BrokerErrorKind.NotFound, `queue '${name}' in vhost '${vhost}' is not owned here`));
    const consumer = new LinkConsumer(this, sub, queue, options);
    try {
      queue.addConsumer(consumer);
    } catch (error) {
      return this.subscribeFailed(sub, error);
    }
    this.subscriptions.set(sub, consumer);
  }

  private subscribeFailed(sub: number, error: unknown): void {
    const kind = error instanceof BrokerError ? error.kind : BrokerErrorKind.InternalError;
    const message = error instanceof Error ? error.message : String(error);
    this.send(new FrameBuilder(Frame.SubscribeFailed).f64(sub).string(kind).string(message).finish());
  }

  private credit(frame: FrameReader): void {
    const consumer = this.subscriptions.get(frame.f64());
    if (consumer === undefined) return;
    consumer.credit += frame.f64();
    consumer.queue.resumeDispatch();
  }

  private settle(frame: FrameReader): void {
    const sub = frame.f64();
    const delivery = frame.f64();
    const how = frame.u8();
    const held = sub === 0 ? this.gotten.get(delivery) : this.subscriptions.get(sub)?.take(delivery);
    if (sub === 0) this.gotten.delete(delivery);
    if (held === undefined) return;
    if (how === Settle.Ack) held.queue.ack(held.entry);
    else held.queue.reject(held.entry, how === Settle.Requeue);
  }

  private cancel(sub: number): void {
    const consumer = this.subscriptions.get(sub);
    if (consumer === undefined) return;
    this.subscriptions.delete(sub);
    consumer.queue.removeConsumer(consumer);
    consumer.requeueHeld();
  }

  /** The broker ended a subscription (its queue was deleted): the client hears of it. */
  cancelled(consumer: LinkConsumer): void {
    if (this.subscriptions.get(consumer.sub) !== consumer) return;
    this.subscriptions.delete(consumer.sub);
    this.send(new FrameBuilder(Frame.Cancelled, 8).f64(consumer.sub).finish());
  }

  private async get(frame: FrameReader): Promise<void> {
    const request = frame.f64();
    const vhost = frame.string();
    const name = frame.string();
    const noAck = frame.bool();
    const queue = this.node.owned(vhost, name);
    if (queue === undefined) return this.failed(request, new BrokerError(BrokerErrorKind.NotFound, `queue '${name}' in vhost '${vhost}' is not owned here`));
    try {
      const entry = await queue.getOrWait(noAck);
      if (entry === undefined) return this.send(new FrameBuilder(Frame.GetEmpty, 8).f64(request).finish());
      const delivery = this.takeDeliveryId();
      if (!noAck) this.gotten.set(delivery, { queue, entry });
      const message = entry.message;
      this.send(
        new FrameBuilder(Frame.Got, 64 + message.bodySize)
          .f64(request).f64(delivery).bool(entry.redelivered).f64(entry.deliveryCount).f64(queue.readyCount())
          .bytes(this.node.headers.encode(message)).bytes(message.body)
          .finish(),
      );
    } catch (error) {
      this.failed(request, error);
    }
  }

  private purge(frame: FrameReader): void {
    const request = frame.f64();
    const vhost = frame.string();
    const name = frame.string();
    const queue = this.node.owned(vhost, name);
    if (queue === undefined) return this.failed(request, new BrokerError(BrokerErrorKind.NotFound, `queue '${name}' in vhost '${vhost}' is not owned here`));
    this.send(new FrameBuilder(Frame.Purged, 16).f64(request).f64(queue.purge()).finish());
  }

  private failed(request: number, error: unknown): void {
    const kind = error instanceof BrokerError ? error.kind : BrokerErrorKind.InternalError;
    const message = error instanceof Error ? error.message : String(error);
    this.send(new FrameBuilder(Frame.Failed).f64(request).string(kind).string(message).finish());
  }

  private resumeAll(): void {
    for (const consumer of this.subscriptions.values()) consumer.queue.resumeDispatch();
  }

  /** The link went: its consumers go, and whatever they (and basic.get) held goes back to its queue. */
  private closed(): void {
    for (const consumer of this.subscriptions.values()) {
      consumer.queue.removeConsumer(consumer);
      consumer.requeueHeld();
    }
    this.subscriptions.clear();
    for (const { queue, entry } of this.gotten.values()) queue.requeue([entry]);
    this.gotten.clear();
  }
}

/** What a Subscribe frame asks for, beyond the queue's name. */
type SubscriptionOptions = Omit<SubscribeRequest, 'vhost' | 'queue'>;

/** A consumer on another node, as the owner's queue sees it: it takes as long as it has credit. */
class LinkConsumer implements Consumer {
  readonly tag: string;
  readonly noAck: boolean;
  readonly exclusive: boolean;
  readonly priority: number;
  readonly arguments: FieldTable;
  credit: number;
  private readonly held = new Map<number, QueueEntry>();

  constructor(
    private readonly session: OwnerSession,
    readonly sub: number,
    readonly queue: Queue,
    options: SubscriptionOptions,
  ) {
    this.tag = options.tag;
    this.noAck = options.noAck;
    this.exclusive = options.exclusive;
    this.priority = options.priority;
    this.arguments = options.arguments;
    this.credit = options.credit;
  }

  get owner(): SessionOwner {
    return this.session;
  }

  canTake(): boolean {
    return this.credit > 0 && this.session.writable;
  }

  deliver(entry: QueueEntry): void {
    this.credit--;
    const delivery = this.session.takeDeliveryId();
    if (!this.noAck) this.held.set(delivery, entry);
    const message = entry.message;
    this.session.send(
      new FrameBuilder(Frame.Deliver, 64 + message.bodySize)
        .f64(this.sub).f64(delivery).bool(entry.redelivered).f64(entry.deliveryCount)
        .bytes(this.headersOf(message)).bytes(message.body)
        .finish(),
    );
  }

  cancelledByBroker(): void {
    this.held.clear();
    this.session.cancelled(this);
  }

  /** In /api/consumers of the owner: a consumer on another node (no channel here); its credit left. */
  describe(): ConsumerDetails {
    return { channel: undefined, prefetchCount: this.credit, held: this.held.size, node: this.session.peerNode } as ConsumerDetails;
  }

  take(delivery: number): { queue: Queue; entry: QueueEntry } | undefined {
    const entry = this.held.get(delivery);
    if (entry === undefined) return undefined;
    this.held.delete(delivery);
    return { queue: this.queue, entry };
  }

  requeueHeld(): void {
    if (this.held.size !== 0) this.queue.requeue([...this.held.values()]);
    this.held.clear();
  }

  private headersOf(message: QueueEntry['message']): Buffer {
    return this.session.encodeHeader(message);
  }
}
