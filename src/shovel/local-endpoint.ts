/**
 * Endpoints on this Warren, straight through the core: the source is a `Consumer` of the queue, the
 * destination publishes with `VHost.publish` and confirms through the same `PublisherConfirms` the
 * AMQP door uses (so a confirm means what it means to an AMQP publisher: every durability barrier the
 * message touched has reported). Going through the core rather than a loopback AMQP connection needs no
 * credentials (RabbitMQ's `amqp://` without a host is its direct, in-node connection too), and skips
 * encoding and parsing every message twice.
 */
import type { Broker } from '../broker/broker.js';
import type { Consumer, QueueEntry, SessionOwner } from '../broker/front-door.js';
import { Message, type BasicProperties, type FieldTable } from '../broker/message.js';
import type { QueueView } from '../broker/queue-view.js';
import type { VHost } from '../broker/vhost.js';
import { PublisherConfirms } from '../session/confirms.js';
import type { DestTarget, ShovelDestination, ShovelSource, SourceDelivery, SourceOptions } from './endpoint.js';
import { emptyArray } from '../util/empty-array.js';

function vhostOf(broker: Broker, name: string): VHost {
  const vhost = broker.getVhost(name);
  if (vhost === undefined) throw new Error(`no vhost '${name}' on this broker`);
  return vhost;
}

/** A queue of that name, declared durable (with the given arguments) when missing, as RabbitMQ's shovel does. */
function ensureQueue(vhost: VHost, name: string, args: Record<string, unknown> | undefined, owner: SessionOwner): QueueView {
  const existing = vhost.getQueue(name);
  if (existing !== undefined) return existing;
  return vhost.declareQueue({ name, durable: true, exclusive: false, autoDelete: false, arguments: (args ?? {}) as FieldTable }, owner).queue;
}

export class LocalSource implements ShovelSource, Consumer {
  readonly exclusive = false;
  readonly priority = 0;
  readonly arguments: FieldTable = {};
  readonly noAck: boolean;
  private queue: QueueView | undefined;
  private readonly held = new Set<QueueEntry>();
  private onMessage: ((delivery: SourceDelivery) => void) | undefined;
  private open_ = false;
  private paused = false;

  constructor(
    private readonly broker: Broker,
    private readonly vhostName: string,
    readonly tag: string,
    readonly owner: SessionOwner,
    private readonly options: SourceOptions,
  ) {
    this.noAck = options.noAck;
  }

  async open(onMessage: (delivery: SourceDelivery) => void, onFailure: (error: Error) => void): Promise<{ queueLength: number }> {
    const vhost = vhostOf(this.broker, this.vhostName);
    const target = this.options.target;
    let queue: QueueView;
    if (target.kind === 'queue') {
      const existing = vhost.getQueue(target.queue);
      if (existing === undefined && !target.declare) throw new Error(`no queue '${target.queue}' in vhost '${this.vhostName}'`);
      queue = existing ?? ensureQueue(vhost, target.queue, target.queueArgs, this.owner);
    } else {
      vhost.checkExchange(target.exchange);
      queue =
        target.queueName === undefined
          ? vhost.declareQueue({ name: '', durable: false, exclusive: true, autoDelete: false, arguments: {} }, this.owner).queue
          : ensureQueue(vhost, target.queueName, target.queueArgs, this.owner);
      for (const key of target.keys) vhost.bindQueue(queue.name, target.exchange, key, {}, this.owner);
    }
    this.queue = queue;
    this.onFailure = onFailure;
    const queueLength = queue.readyCount();
    this.onMessage = onMessage;
    // Registered unable to take, then opened: addConsumer dispatches synchronously (CONTRACT.md).
    this.paused = this.options.startPaused === true;
    queue.addConsumer(this);
    this.open_ = true;
    queue.resumeDispatch();
    return { queueLength };
  }

  async pause(): Promise<void> {
    this.paused = true;
  }

  async resume(): Promise<void> {
    if (!this.paused) return;
    this.paused = false;
    this.queue?.resumeDispatch();
  }

  private onFailure: ((error: Error) => void) | undefined;

  canTake(): boolean {
    return this.open_ && !this.paused && (this.noAck || this.held.size < this.options.prefetch);
  }

  deliver(entry: QueueEntry, queue: QueueView): void {
    if (!this.noAck) this.held.add(entry);
    const m = entry.message;
    this.onMessage?.({
      message: { exchange: m.exchange, routingKey: m.routingKey, properties: m.properties, body: m.body, redelivered: entry.redelivered },
      token: entry,
    });
    void queue;
  }

  cancelledByBroker(queue: QueueView): void {
    this.open_ = false;
    this.onFailure?.(new Error(`source queue '${queue.name}' was deleted`));
  }

  ack(delivery: SourceDelivery): void {
    this.settle(delivery, (queue, entry) => queue.ack(entry));
  }

  requeue(delivery: SourceDelivery): void {
    this.settle(delivery, (queue, entry) => queue.reject(entry, true));
  }

  private settle(delivery: SourceDelivery, how: (queue: QueueView, entry: QueueEntry) => void): void {
    const entry = delivery.token as QueueEntry;
    const queue = this.queue;
    if (queue === undefined || !this.held.delete(entry)) return;
    how(queue, entry);
    queue.resumeDispatch();
  }

  async bind(key: string): Promise<void> {
    const target = this.options.target;
    if (target.kind === 'exchange' && this.queue !== undefined) vhostOf(this.broker, this.vhostName).bindQueue(this.queue.name, target.exchange, key, {}, this.owner);
  }

  async unbind(key: string): Promise<void> {
    const target = this.options.target;
    if (target.kind === 'exchange' && this.queue !== undefined) vhostOf(this.broker, this.vhostName).unbindQueue(this.queue.name, target.exchange, key, {}, this.owner);
  }

  async close(): Promise<void> {
    this.open_ = false;
    const queue = this.queue;
    if (queue === undefined) return;
    this.queue = undefined;
    try {
      queue.removeConsumer(this);
      if (this.held.size !== 0) queue.requeue([...this.held].sort((a, b) => a.seq - b.seq));
      this.held.clear();
      this.broker.getVhost(this.vhostName)?.releaseOwner(this.owner);
    } catch {
      /* the queue or vhost is gone */
    }
  }
}

export class LocalDestination implements ShovelDestination {
  private vhost: VHost | undefined;
  private confirms: PublisherConfirms | undefined;
  private readonly pending = new Map<number, (ok: boolean) => void>();
  private readonly reached: QueueView[] = [];
  private onFailure: ((error: Error) => void) | undefined;

  constructor(
    private readonly broker: Broker,
    private readonly vhostName: string,
    private readonly owner: SessionOwner,
    private readonly target: DestTarget,
  ) {}

  async open(onFailure: (error: Error) => void): Promise<void> {
    const vhost = vhostOf(this.broker, this.vhostName);
    if (this.target.kind === 'queue') ensureQueue(vhost, this.target.queue, this.target.queueArgs, this.owner);
    if (this.target.kind === 'exchange' && this.target.exchange !== '') vhost.checkExchange(this.target.exchange);
    this.vhost = vhost;
    this.onFailure = onFailure;
    this.confirms = new PublisherConfirms(this.broker, { confirm: (tag, multiple, ack) => this.confirmed(tag, multiple, ack) });
  }

  publish(exchange: string, routingKey: string, properties: BasicProperties, body: Buffer, onSettled?: (ok: boolean) => void): void {
    const vhost = this.vhost;
    const confirms = this.confirms;
    if (vhost === undefined || confirms === undefined) return onSettled?.(false);
    const reached = this.reached;
    let refused = false;
    try {
      refused = vhost.publish(new Message(exchange, routingKey, properties, body), reached).refused;
    } catch (error) {
      emptyArray(reached);
      onSettled?.(false);
      this.onFailure?.(error as Error); // the exchange went away: the shovel restarts and checks again
      return;
    }
    for (const queue of reached) if (queue.durability !== undefined) confirms.join(queue.durability);
    emptyArray(reached);
    // Every publish is numbered so that tags stay in step; only those with a callback are remembered.
    const tag = confirms.accept(refused);
    if (onSettled !== undefined) this.pending.set(tag, onSettled);
  }

  private confirmed(tag: number, multiple: boolean, ack: boolean): void {
    if (!multiple) {
      const callback = this.pending.get(tag);
      this.pending.delete(tag);
      callback?.(ack);
      return;
    }
    for (const [t, callback] of this.pending) {
      if (t > tag) break; // insertion order is tag order
      this.pending.delete(t);
      callback(ack);
    }
  }

  async close(): Promise<void> {
    this.confirms?.stop();
    this.confirms = undefined;
    this.vhost = undefined;
    this.pending.clear();
  }
}
