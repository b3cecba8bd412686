import type { Binding, RouteSink } from '../../binding.js';
import type { Message } from '../../message.js';
import type { Exchange } from '../exchange.js';
import type { ExchangeRouter } from '../exchange-type.js';
import { releasedMessage, requestedDelay } from './delay-header.js';
import type { DelayedMessageStore } from './delayed-store.js';
import { DueHeap } from './due-heap.js';

/** Node's setTimeout limit; a longer wait is armed in steps. */
const MAX_TIMER_MS = 0x7fffffff;
/**
 * Longest run of releases in one turn of the event loop. A backlog (many messages due in the same
 * millisecond, or all that fell due while the broker was down) would otherwise hold the loop for
 * `releaseBatch` routings (tens of ms), and with it every socket, ack and timer.
 */
const RELEASE_SLICE_MS = 4;
/** Releases between clock reads while slicing (reading the clock per message costs more than routing). */
const CLOCK_EVERY = 32;

export interface DelayedRouterOptions {
  /** Wall clock in ms. Default Date.now. */
  now?: () => number;
  /** Most messages released per turn of the event loop before yielding to I/O (also capped by time). */
  releaseBatch?: number;
  store?: DelayedMessageStore;
}

export interface DelayedRouterStats {
  /** Messages accepted for later routing. */
  delayed: number;
  /** Messages released when due (routed or not). */
  released: number;
  /** Released messages no queue took (and no alternate exchange). */
  unroutable: number;
  /** Releases that threw (logged nowhere: the router has no logger; kept countable). */
  failed: number;
}

/**
 * Routing of an x-delayed-message exchange. A message with a positive `x-delay` is kept in a min-heap on
 * its due time and counted as routed for the publisher (see RouteSink.hold); everything else is routed
 * at once by the router of the `x-delayed-type`. One timer, armed for the earliest due time, releases
 * every message that is due through VHost.routeFrom, which follows e2e bindings and the alternate
 * exchange as a fresh publish would. Nothing is allocated per pending message besides its heap slot.
 */
export class DelayedMessageRouter implements ExchangeRouter {
  readonly stats: DelayedRouterStats = { delayed: 0, released: 0, unroutable: 0, failed: 0 };
  private readonly heap = new DueHeap<Message>();
  private readonly now: () => number;
  private readonly releaseBatch: number;
  private readonly store: DelayedMessageStore | undefined;
  private nextId = 1;
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  /** Due time the timer is armed for (Infinity: not armed). */
  private armedFor = Infinity;
  /** The message being released right now: routing it must not delay it again. */
  private releasing: Message | undefined;
  private closed = false;
  private readonly fire = (): void => {
    this.timer = undefined;
    this.immediate = undefined;
    this.armedFor = Infinity;
    this.releaseDue();
    this.arm();
  };

  constructor(
    private readonly exchange: Exchange,
    private readonly inner: ExchangeRouter,
    options: DelayedRouterOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.releaseBatch = options.releaseBatch ?? 10_000;
    this.store = exchange.durable ? options.store : undefined;
    if (this.store !== undefined) void this.recover(this.store);
  }

  /** Messages waiting for their due time. */
  get pendingCount(): number {
    return this.heap.size;
  }

  /** Due time of the next message to release (Infinity when none). */
  get nextDue(): number {
    return this.heap.peekDue();
  }

  addBinding(binding: Binding): void {
    this.inner.addBinding(binding);
  }

  removeBinding(binding: Binding): void {
    this.inner.removeBinding(binding);
  }

  route(message: Message, sink: RouteSink): void {
    if (message === this.releasing) return this.inner.route(message, sink);
    const delay = requestedDelay(message);
    if (delay === 0 || this.closed) return this.inner.route(message, sink);
    this.hold(this.now() + delay, message);
    sink.hold?.();
  }

  stop(): void {
    this.disarm();
  }

  close(): void {
    this.closed = true;
    this.disarm();
    this.heap.clear();
    this.store?.dropExchange(this.exchange);
  }

  private hold(dueAt: number, message: Message): void {
    const id = this.nextId++;
    this.stats.delayed++;
    if (this.store !== undefined && message.persistent) this.store.add(this.exchange, { id, dueAt, message });
    this.heap.push(dueAt, id, message);
    if (dueAt < this.armedFor) this.arm();
  }

  /** Releases what is due now, at most one batch or time slice; the caller re-arms for the rest. */
  private releaseDue(): void {
    const heap = this.heap;
    const now = this.now();
    const sliceEnd = performance.now() + RELEASE_SLICE_MS;
    for (let n = 0; n < this.releaseBatch && heap.peekDue() <= now; n++) {
      if (n % CLOCK_EVERY === CLOCK_EVERY - 1 && performance.now() > sliceEnd) break;
      const message = heap.pop()!;
      const id = heap.poppedSeq;
      // Routed (and stored by its queues) before it leaves the exchange's store: a crash in between
      // delivers it twice rather than never.
      this.release(message);
      this.store?.remove(this.exchange, id);
    }
  }

  private release(message: Message): void {
    this.stats.released++;
    const released = releasedMessage(message, requestedDelay(message), this.now());
    this.releasing = released;
    try {
      if (this.exchange.vhost.routeFrom(this.exchange, released).routed === 0) this.stats.unroutable++;
    } catch {
      this.stats.failed++;
    } finally {
      this.releasing = undefined;
    }
  }

  /** One timer for the earliest due time; a backlog already due continues on setImmediate. */
  private arm(): void {
    if (this.closed) return;
    const due = this.heap.peekDue();
    if (due === Infinity || due >= this.armedFor) return;
    this.disarm();
    this.armedFor = due;
    const wait = due - this.now();
    if (wait <= 0) this.immediate = setImmediate(this.fire);
    else this.timer = setTimeout(this.fire, Math.min(Math.ceil(wait), MAX_TIMER_MS));
  }

  private disarm(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.immediate !== undefined) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
    this.armedFor = Infinity;
  }

  /** Nothing is published to the exchange before the broker has waited for this (DurableDelayedStore). */
  private async recover(store: DelayedMessageStore): Promise<void> {
    const recovered = await store.recover(this.exchange);
    if (this.closed) return;
    for (const pending of recovered) {
      this.heap.push(pending.dueAt, pending.id, pending.message);
      if (pending.id >= this.nextId) this.nextId = pending.id + 1;
    }
    // Arming waits until the exchange is in its vhost: the first timer turn comes after construction.
    if (this.heap.size !== 0) this.arm();
  }
}
