import { BrokerError, type BrokerErrorKind } from '../../broker/errors.js';
import type { Message } from '../../broker/message.js';
import type { MessageHeaderCodec } from '../../broker/persistence/message-header.js';
import { fieldTableToJson } from '../../broker/persistence/field-json.js';
import type { FieldTable } from '../../broker/message.js';
import type { DurabilityBarrier } from '../../session/durability.js';
import { FrameBuilder, type FrameReader } from './codec.js';
import type { LinkConnection } from './connection.js';
import { Frame, type Settle } from './frames.js';

export interface SubscribeRequest {
  readonly vhost: string;
  readonly queue: string;
  readonly tag: string;
  readonly noAck: boolean;
  readonly exclusive: boolean;
  readonly priority: number;
  readonly credit: number;
  readonly arguments: FieldTable;
}

/** What a subscription hears from the owner. */
export interface SubscriptionListener {
  delivered(delivery: number, redelivered: boolean, deliveryCount: number, message: Message): void;
  /** The owner refused the subscription, or the queue went (deleted, moved), or the link broke. */
  ended(reason: { kind: BrokerErrorKind | 'cancelled' | 'link-lost'; message: string }): void;
}

export interface GotMessage {
  readonly delivery: number;
  readonly redelivered: boolean;
  readonly deliveryCount: number;
  readonly messageCount: number;
  readonly message: Message;
}

/** How far back (in forwarded messages) refusals are remembered, and how many at most. */
const REFUSAL_MEMORY = 1_000_000;
const MAX_REFUSALS_KEPT = 100_000;

/** Queue figures the owner reports (Stats frames), by `JSON [vhost, queue]`. */
export type QueueFigures = { ready: number; unacked: number; consumers: number; bytes: number };

/**
 * This node's end of a link to an owner node: it forwards messages routed to the owner's queues and is
 * the durability barrier their publishers' confirms wait behind (Durable frames), runs remote
 * subscriptions, and asks for basic.get and purge. When the link breaks, everything waiting is told
 * at once: confirms become nacks (the publisher re-sends), subscriptions end (the queue resubscribes
 * wherever the queue is owned next).
 */
export class OwnerLink implements DurabilityBarrier {
  private lastSeq = 0;
  private durableUpTo = 0;
  private readonly refused: number[] = [];
  private readonly waiters: { from: number; to: number; callback: (lost?: boolean) => void }[] = [];
  private nextSub = 1;
  private readonly subscriptions = new Map<number, SubscriptionListener>();
  private nextRequest = 1;
  private readonly requests = new Map<number, { resolve: (frame: FrameReader | undefined, type: number) => void }>();
  private readonly figures = new Map<string, QueueFigures>();
  private lost = false;

  constructor(
    readonly connection: LinkConnection,
    private readonly headers: MessageHeaderCodec,
  ) {
    connection.onFrames((type, frame) => this.onFrame(type, frame));
    connection.onClose(() => this.broke());
  }

  get node(): string {
    return this.connection.peer?.node ?? '?';
  }

  get broken(): boolean {
    return this.lost;
  }

  /** The latest figures the owner reported for a queue. */
  figuresOf(vhost: string, queue: string): QueueFigures | undefined {
    return this.figures.get(JSON.stringify([vhost, queue]));
  }

  // ---- publishing -------------------------------------------------------------------------------

  enqueue(vhost: string, queue: string, message: Message): void {
    if (this.lost) {
      this.refused.push(++this.lastSeq);
      return;
    }
    const seq = ++this.lastSeq;
    this.connection.write(
      new FrameBuilder(Frame.Enqueue, 64 + message.bodySize)
        .f64(seq).string(vhost).string(queue).bytes(this.headers.encode(message)).bytes(message.body)
        .finish(),
    );
  }

  /** The sequence number of the latest forwarded message (a publisher's BarrierSet marks where it joined). */
  position(): number {
    return this.lastSeq;
  }

  /**
   * `since`: the first sequence number the caller's messages of this wait can have; every refusal from
   * there up to now makes the wait `lost` (so refusals of other publishers' messages in between may
   * nack ours too: a nack only costs a re-send, an ack of a refused message would cost the message).
   */
  whenDurable(callback: (lost?: boolean) => void, since?: number): void {
    const to = this.lastSeq;
    const from = since ?? this.durableUpTo + 1;
    if (to <= this.durableUpTo || this.lost) return callback(this.lost || this.refusedIn(from, to));
    this.waiters.push({ from, to, callback });
  }

  private durable(upTo: number): void {
    this.durableUpTo = Math.max(this.durableUpTo, upTo);
    while (this.waiters.length !== 0 && this.waiters[0]!.to <= this.durableUpTo) {
      const waiter = this.waiters.shift()!;
      waiter.callback(this.refusedIn(waiter.from, waiter.to));
    }
    // Refusals are kept long after they are durable: a publisher's wait may start from an old position.
    while (this.refused.length !== 0 && (this.refused[0]! < this.durableUpTo - REFUSAL_MEMORY || this.refused.length > MAX_REFUSALS_KEPT)) {
      this.refused.shift();
    }
  }

  private refusedIn(from: number, to: number): boolean {
    return this.refused.some((seq) => seq >= from && seq <= to);
  }

  // ---- consuming --------------------------------------------------------------------------------

  subscribe(request: SubscribeRequest, listener: SubscriptionListener): number {
    const sub = this.nextSub++;
    if (this.lost) {
      queueMicrotask(() => listener.ended({ kind: 'link-lost', message: `the link to node ${this.node} is down` }));
      return sub;
    }
    this.subscriptions.set(sub, listener);
    this.connection.write(
      new FrameBuilder(Frame.Subscribe)
        .f64(sub).string(request.vhost).string(request.queue).string(request.tag)
        .bool(request.noAck).bool(request.exclusive).f64(request.priority).f64(request.credit)
        .string(JSON.stringify(fieldTableToJson(request.arguments)))
        .finish(),
    );
    return sub;
  }

  credit(sub: number, n: number): void {
    if (n > 0) this.connection.write(new FrameBuilder(Frame.Credit, 16).f64(sub).f64(n).finish());
  }

  settle(sub: number, delivery: number, how: Settle): void {
    this.connection.write(new FrameBuilder(Frame.Settle, 17).f64(sub).f64(delivery).u8(how).finish());
  }

  cancel(sub: number): void {
    if (!this.subscriptions.delete(sub)) return;
    this.connection.write(new FrameBuilder(Frame.Cancel, 8).f64(sub).finish());
  }

  // ---- requests ---------------------------------------------------------------------------------

  get(vhost: string, queue: string, noAck: boolean): Promise<GotMessage | undefined> {
    return this.request(new FrameBuilder(Frame.Get).f64(this.nextRequest).string(vhost).string(queue).bool(noAck), (type, frame) => {
      if (type === Frame.GetEmpty) return undefined;
      const delivery = frame.f64();
      const redelivered = frame.bool();
      const deliveryCount = frame.f64();
      const messageCount = frame.f64();
      const message = this.headers.decode(frame.bytes(), frame.bytes());
      return { delivery, redelivered, deliveryCount, messageCount, message };
    });
  }

  purge(vhost: string, queue: string): Promise<number> {
    return this.request(new FrameBuilder(Frame.Purge).f64(this.nextRequest).string(vhost).string(queue), (_type, frame) => frame.f64());
  }

  private request<T>(frame: FrameBuilder, read: (type: number, frame: FrameReader) => T): Promise<T> {
    const id = this.nextRequest++;
    return new Promise<T>((resolve, reject) => {
      if (this.lost) return reject(new Error(`the link to node ${this.node} is down`));
      this.requests.set(id, {
        resolve: (answer, type) => {
          if (answer === undefined) return reject(new Error(`the link to node ${this.node} broke`));
          if (type === Frame.Failed) return reject(new BrokerError(answer.string() as BrokerErrorKind, answer.string()));
          try {
            resolve(read(type, answer));
          } catch (error) {
            reject(error as Error);
          }
        },
      });
      this.connection.write(frame.finish());
    });
  }

  // ---- frames from the owner --------------------------------------------------------------------

  private onFrame(type: number, frame: FrameReader): void {
    switch (type) {
      case Frame.Durable:
        return this.durable(frame.f64());
      case Frame.Refused:
        return void this.refused.push(frame.f64());
      case Frame.Deliver:
        return this.deliver(frame);
      case Frame.SubscribeFailed: {
        const sub = frame.f64();
        const listener = this.subscriptions.get(sub);
        this.subscriptions.delete(sub);
        return listener?.ended({ kind: frame.string() as BrokerErrorKind, message: frame.string() });
      }
      case Frame.Cancelled: {
        const sub = frame.f64();
        const listener = this.subscriptions.get(sub);
        this.subscriptions.delete(sub);
        return listener?.ended({ kind: 'cancelled', message: 'the queue was deleted or moved' });
      }
      case Frame.Got:
      case Frame.GetEmpty:
      case Frame.Purged:
      case Frame.Failed: {
        const id = frame.f64();
        const pending = this.requests.get(id);
        this.requests.delete(id);
        return pending?.resolve(frame, type);
      }
      case Frame.Stats:
        return this.stats(frame);
      default:
        return;
    }
  }

  private deliver(frame: FrameReader): void {
    const listener = this.subscriptions.get(frame.f64());
    const delivery = frame.f64();
    const redelivered = frame.bool();
    const deliveryCount = frame.f64();
    const message = this.headers.decode(frame.bytes(), frame.bytes());
    listener?.delivered(delivery, redelivered, deliveryCount, message);
  }

  private stats(frame: FrameReader): void {
    const rows = JSON.parse(frame.string()) as [string, QueueFigures][];
    this.figures.clear();
    for (const [key, figures] of rows) this.figures.set(key, figures);
  }

  private broke(): void {
    if (this.lost) return;
    this.lost = true;
    for (const waiter of this.waiters.splice(0)) waiter.callback(true);
    for (const listener of this.subscriptions.values()) listener.ended({ kind: 'link-lost', message: `the link to node ${this.node} broke` });
    this.subscriptions.clear();
    for (const pending of this.requests.values()) pending.resolve(undefined, 0);
    this.requests.clear();
  }
}
