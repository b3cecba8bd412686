import type { Logger } from 'pino';
import type { Consumer, SessionOwner } from './front-door.js';
import type { Exchange } from './exchanges/exchange.js';
import type { FieldTable, Message } from './message.js';
import { REPLY_TO_QUEUE } from './names.js';
import { VHostPolicies } from './policies/vhost-policies.js';
import { Queue } from './queue/queue.js';
import type { QueueView } from './queue-view.js';
import { DirectReplyTo } from './reply-to.js';
import type { DeathReason } from './queue/dead-letter.js';
import { PREDECLARED_EXCHANGES, type ExchangeDeclare, type PublishOutcome, type QueueDeclare, type VHostContext } from './vhost/declarations.js';
import { ExchangeManagement } from './vhost/exchange-management.js';
import { Publishing } from './vhost/publishing.js';
import { QueueManagement } from './vhost/queue-management.js';
import { Topology } from './vhost/topology.js';

export type { BrokerLimits, ExchangeDeclare, PublishOutcome, QueueDeclare, VHostContext } from './vhost/declarations.js';

/**
 * A virtual host: its exchanges, queues and bindings, and the routing of published messages. Front
 * doors call these methods; every one is synchronous and throws BrokerError (errors.ts).
 *
 * The vhost holds one part per concern and delegates to them: the Topology (tables and bindings) they
 * all share, ExchangeManagement, QueueManagement (with exclusive owners) and Publishing (routing, dead
 * letters, direct reply-to deliveries), plus the policies and the direct reply-to registry.
 */
export class VHost {
  /** The pseudo queue direct reply-to deliveries carry; not in `queues`. */
  readonly replyToQueue: Queue;
  /** Policies of this vhost (src/broker/policies/README.md). */
  readonly policies: VHostPolicies;

  private readonly topology: Topology;
  private readonly exchangeManagement: ExchangeManagement;
  private readonly queueManagement: QueueManagement;
  private readonly publishing: Publishing;
  private readonly replyTo = new DirectReplyTo();

  constructor(
    readonly name: string,
    private readonly context: VHostContext,
  ) {
    // The policies find queues and exchanges through this vhost's `queues` and `exchanges`.
    this.policies = new VHostPolicies(name, this);
    this.topology = new Topology(this, context, this.policies);
    for (const [exchangeName, type, internal] of PREDECLARED_EXCHANGES) {
      this.topology.createExchange({ name: exchangeName, type, durable: true, autoDelete: false, internal, arguments: {} });
    }
    this.replyToQueue = new Queue(this, REPLY_TO_QUEUE, {
      durable: false,
      autoDelete: false,
      exclusiveOwner: undefined,
      arguments: {},
      directReplyTo: true,
    });
    this.exchangeManagement = new ExchangeManagement(name, context, this.topology);
    this.queueManagement = new QueueManagement(this, context, this.topology, this.policies, this.replyTo, this.replyToQueue);
    this.publishing = new Publishing(name, context.logger, context.readPacer, this.topology, this.replyTo, this.replyToQueue);
  }

  get exchanges(): ReadonlyMap<string, Exchange> {
    return this.topology.exchanges;
  }

  get queues(): ReadonlyMap<string, Queue> {
    return this.topology.queues;
  }

  get logger(): Logger {
    return this.context.logger;
  }

  getExchange(name: string): Exchange | undefined {
    return this.topology.exchanges.get(name);
  }

  getQueue(name: string): Queue | undefined {
    return this.topology.queues.get(name);
  }

  // ---- exchanges (vhost/exchange-management.ts) -------------------------------------------------

  declareExchange(req: ExchangeDeclare): Exchange {
    return this.exchangeManagement.declareExchange(req);
  }

  /** Passive declare: 404 if missing; 403 for the default exchange, as RabbitMQ. */
  checkExchange(name: string): Exchange {
    return this.exchangeManagement.checkExchange(name);
  }

  /** Deleting a missing exchange succeeds (RabbitMQ: delete is idempotent). */
  deleteExchange(name: string, ifUnused: boolean): void {
    this.exchangeManagement.deleteExchange(name, ifUnused);
  }

  bindExchange(destination: string, source: string, routingKey: string, args: FieldTable): void {
    this.exchangeManagement.bindExchange(destination, source, routingKey, args);
  }

  unbindExchange(destination: string, source: string, routingKey: string, args: FieldTable): void {
    this.exchangeManagement.unbindExchange(destination, source, routingKey, args);
  }

  // ---- queues (vhost/queue-management.ts) -------------------------------------------------------

  declareQueue(req: QueueDeclare, owner: SessionOwner): { queue: Queue; messageCount: number; consumerCount: number } {
    return this.queueManagement.declareQueue(req, owner);
  }

  /**
   * Passive declare: 404 if missing, 405 if another connection holds it exclusively. The direct reply-to
   * pseudo queue and live reply-to addresses exist too, as in RabbitMQ.
   */
  checkQueue(name: string, owner: SessionOwner): Queue {
    return this.queueManagement.checkQueue(name, owner);
  }

  bindQueue(queue: string, exchange: string, routingKey: string, args: FieldTable, owner: SessionOwner): void {
    this.queueManagement.bindQueue(queue, exchange, routingKey, args, owner);
  }

  /** Unbinding a binding that does not exist succeeds, as in RabbitMQ. */
  unbindQueue(queue: string, exchange: string, routingKey: string, args: FieldTable, owner: SessionOwner): void {
    this.queueManagement.unbindQueue(queue, exchange, routingKey, args, owner);
  }

  purgeQueue(name: string, owner: SessionOwner): number {
    return this.queueManagement.purgeQueue(name, owner);
  }

  /** Returns the ready messages dropped. A missing queue is no error (RabbitMQ: delete is idempotent). */
  deleteQueue(name: string, opts: { ifUnused: boolean; ifEmpty: boolean }, owner: SessionOwner): number {
    return this.queueManagement.deleteQueue(name, opts, owner);
  }

  /** The connection closed: its exclusive queues go with it. */
  releaseOwner(owner: SessionOwner): void {
    this.queueManagement.releaseOwner(owner);
  }

  /**
   * Removes a queue and everything attached: bindings (auto-delete exchanges may follow), consumers
   * (told via cancelledByBroker), ready entries. Returns the ready entries dropped.
   * @internal front doors call deleteQueue; queues call this for auto-delete
   */
  destroyQueue(queue: Queue): number {
    return this.queueManagement.destroyQueue(queue);
  }

  // ---- publishing (vhost/publishing.ts) ---------------------------------------------------------

  /**
   * Routes and enqueues; dispatch to consumers happens synchronously inside. When `reached` is given,
   * the queues the message was offered to are appended to it (publisher flow control looks at them).
   */
  publish(message: Message, reached?: QueueView[]): PublishOutcome {
    return this.publishing.publish(message, reached);
  }

  /**
   * A queue dead-letters a message (already rewritten with x-death): routed like a publish to its
   * exchange, except that internal exchanges are allowed, a missing exchange drops it silently, and a
   * queue it would cycle back to without a rejection is skipped (RabbitMQ's rules).
   * @internal called by Queue
   */
  publishDeadLetter(message: Message, reason: DeathReason): void {
    this.publishing.publishDeadLetter(message, reason);
  }

  /**
   * Routes a message from `exchange` as if just published there, without the publish checks and
   * counters: how an exchange that holds messages (x-delayed-message) releases them later.
   * @internal exchange routers
   */
  routeFrom(exchange: Exchange, message: Message): PublishOutcome {
    return this.publishing.routeFrom(exchange, message);
  }

  /** Direct reply-to: the address a consumer's callers put in reply_to. */
  registerReplyTo(consumer: Consumer): string {
    return this.replyTo.register(consumer);
  }

  unregisterReplyTo(consumer: Consumer): void {
    this.replyTo.unregister(consumer);
  }

  // ---- lifecycle --------------------------------------------------------------------------------

  /** Everything goes: queues closed (consumers cancelled), exchanges dropped. @internal Broker.deleteVhost */
  close(): void {
    this.queueManagement.destroyAll();
    for (const exchange of this.topology.exchanges.values()) {
      exchange.deleted = true;
      exchange.router.close?.();
    }
    this.topology.exchanges.clear();
    this.replyTo.clear();
  }

  /** Cancels pending dispatch continuations. @internal Broker.stop */
  stopTimers(): void {
    for (const queue of this.topology.queues.values()) queue.stopTimers();
    for (const exchange of this.topology.exchanges.values()) exchange.router.stop?.();
  }
}
