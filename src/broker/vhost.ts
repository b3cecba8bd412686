import type { Logger } from 'pino';
import { assertArgumentsEquivalent, assertFieldEquivalent, fieldTableKey } from './arguments.js';
import { Binding, bindingIdentity, RouteCollector, type BindingDestination } from './binding.js';
import type { Consumer, SessionOwner } from './consumer.js';
import {
  accessRefused,
  ConnectionError,
  ConnectionReplyCode,
  describeResource,
  notFound,
  preconditionFailed,
} from './errors.js';
import { Exchange } from './exchanges/exchange.js';
import type { ExchangeTypeRegistry } from './exchanges/registry.js';
import type { FieldTable, Message } from './message.js';
import { hasReservedPrefix, REPLY_TO_PREFIX, REPLY_TO_QUEUE, serverQueueName } from './names.js';
import { entityKey, type DefinitionObserver } from './persistence/definitions.js';
import type { DurableStoreAccess } from './queue/durable-messages.js';
import { VHostPolicies } from './policies/vhost-policies.js';
import { isDeadLetterCycle, type DeathReason } from './queue/dead-letter.js';
import { Queue } from './queue/queue.js';
import { DirectReplyTo } from './reply-to.js';

export interface ExchangeDeclare {
  name: string;
  type: string;
  durable: boolean;
  autoDelete: boolean;
  internal: boolean;
  arguments: FieldTable;
}

export interface QueueDeclare {
  name: string;
  durable: boolean;
  exclusive: boolean;
  autoDelete: boolean;
  arguments: FieldTable;
}

export interface PublishOutcome {
  /** Number of queues (and direct reply-to consumers) that took the message; 0 = unroutable. */
  readonly routed: number;
  /** A queue refused the message (x-overflow reject-publish): the publisher gets basic.nack. */
  readonly refused: boolean;
}

export interface BrokerLimits {
  /** Per vhost. */
  maxQueues: number;
  /** Per vhost, not counting the predeclared ones. */
  maxExchanges: number;
  /**
   * Default consumer timeout in ms for queues without x-consumer-timeout: an unacked delivery older
   * than this is taken back and requeued. 0 = off (the default).
   */
  consumerTimeoutMs: number;
}

/** What a VHost needs from its Broker. */
export interface VHostContext {
  readonly exchangeTypes: ExchangeTypeRegistry;
  readonly limits: BrokerLimits;
  readonly logger: Logger;
  /** Told about every topology change; records the durable ones (persistence/definitions.ts). */
  readonly definitions: DefinitionObserver;
  /** Where durable queues write persistent messages; undefined while nothing is persisted. */
  readonly durableStore: DurableStoreAccess | undefined;
}

/** Outcomes are immutable, so the common ones are shared instead of allocated per publish. */
const sharedOutcomes: PublishOutcome[] = Array.from({ length: 64 }, (_, routed) =>
  Object.freeze({ routed, refused: false }),
);
function outcome(routed: number, refused: boolean): PublishOutcome {
  if (!refused && routed < sharedOutcomes.length) return sharedOutcomes[routed]!;
  return { routed, refused };
}

/** x-arguments that are part of a queue's identity (RabbitMQ's declare-time equivalence list). */
const QUEUE_IDENTITY_ARGUMENTS = [
  'x-expires',
  'x-message-ttl',
  'x-dead-letter-exchange',
  'x-dead-letter-routing-key',
  'x-dead-letter-strategy',
  'x-max-length',
  'x-max-length-bytes',
  'x-max-priority',
  'x-overflow',
  'x-queue-mode',
  'x-queue-type',
  'x-queue-version',
  'x-single-active-consumer',
  'x-delivery-limit',
  'x-max-age',
] as const;
const QUEUE_ARGUMENT_DEFAULTS = { 'x-queue-type': 'classic' };

/** The exchanges every vhost starts with (RabbitMQ's set), all durable. */
const PREDECLARED_EXCHANGES: readonly (readonly [name: string, type: string, internal: boolean])[] = [
  ['', 'direct', false],
  ['amq.direct', 'direct', false],
  ['amq.fanout', 'fanout', false],
  ['amq.topic', 'topic', false],
  ['amq.headers', 'headers', false],
  ['amq.match', 'headers', false],
  ['amq.rabbitmq.trace', 'topic', true],
];

const DEFAULT_EXCHANGE_REFUSED = 'operation not permitted on the default exchange';

/**
 * A virtual host: its exchanges, queues and bindings, and the routing of published messages. Front
 * doors call these methods; every one is synchronous and throws ChannelError/ConnectionError.
 */
export class VHost {
  private readonly exchangeTable = new Map<string, Exchange>();
  private readonly queueTable = new Map<string, Queue>();
  private readonly ownedQueues = new Map<SessionOwner, Set<Queue>>();
  private readonly replyTo = new DirectReplyTo();
  private readonly collector = new RouteCollector();
  private routeEpoch = 0;
  /** Nesting depth of publish (a consumer may publish from inside deliver). */
  private publishDepth = 0;
  private readonly defaultExchange: Exchange;
  /** The pseudo queue direct reply-to deliveries carry; not in `queues`. */
  readonly replyToQueue: Queue;
  /** Policies of this vhost (src/broker/policies/README.md). */
  readonly policies: VHostPolicies;

  constructor(
    readonly name: string,
    private readonly context: VHostContext,
  ) {
    this.policies = new VHostPolicies(name, this);
    for (const [exchangeName, type, internal] of PREDECLARED_EXCHANGES) {
      this.createExchange({ name: exchangeName, type, durable: true, autoDelete: false, internal, arguments: {} });
    }
    this.defaultExchange = this.exchangeTable.get('')!;
    this.replyToQueue = new Queue(this, REPLY_TO_QUEUE, {
      durable: false,
      autoDelete: false,
      exclusiveOwner: undefined,
      arguments: {},
      directReplyTo: true,
    });
  }

  get exchanges(): ReadonlyMap<string, Exchange> {
    return this.exchangeTable;
  }

  get queues(): ReadonlyMap<string, Queue> {
    return this.queueTable;
  }

  get logger(): Logger {
    return this.context.logger;
  }

  getExchange(name: string): Exchange | undefined {
    return this.exchangeTable.get(name);
  }

  getQueue(name: string): Queue | undefined {
    return this.queueTable.get(name);
  }

  // ---- exchanges -------------------------------------------------------------------------------

  declareExchange(req: ExchangeDeclare): Exchange {
    const type = this.context.exchangeTypes.get(req.type);
    if (type === undefined) {
      throw new ConnectionError(ConnectionReplyCode.CommandInvalid, `invalid exchange type '${req.type}'`);
    }
    if (req.name === '') throw accessRefused(DEFAULT_EXCHANGE_REFUSED);
    const existing = this.exchangeTable.get(req.name);
    if (existing !== undefined) {
      this.assertExchangeEquivalent(existing, req);
      return existing;
    }
    if (hasReservedPrefix(req.name)) {
      throw accessRefused(`exchange name '${req.name}' contains reserved prefix 'amq.*'`);
    }
    const userExchanges = this.exchangeTable.size - PREDECLARED_EXCHANGES.length;
    if (userExchanges >= this.context.limits.maxExchanges) {
      throw preconditionFailed(
        `cannot declare exchange '${req.name}': exchange limit in vhost '${this.name}' (${this.context.limits.maxExchanges}) is reached`,
      );
    }
    type.validateDeclare?.(req.arguments, describeResource('exchange', req.name, this.name));
    return this.createExchange(req);
  }

  /** Passive declare: 404 if missing; 403 for the default exchange, as RabbitMQ. */
  checkExchange(name: string): Exchange {
    if (name === '') throw accessRefused(DEFAULT_EXCHANGE_REFUSED);
    return this.requireExchange(name);
  }

  /** Deleting a missing exchange succeeds (RabbitMQ: delete is idempotent). */
  deleteExchange(name: string, ifUnused: boolean): void {
    if (name === '') throw accessRefused(DEFAULT_EXCHANGE_REFUSED);
    if (hasReservedPrefix(name)) {
      throw accessRefused(`deletion of system ${describeResource('exchange', name, this.name)} not allowed`);
    }
    const exchange = this.exchangeTable.get(name);
    if (exchange === undefined) return;
    if (ifUnused && exchange.bindings.size !== 0) throw preconditionFailed(`${exchange.resource} in use`);
    this.destroyExchange(exchange);
  }

  bindExchange(destination: string, source: string, routingKey: string, args: FieldTable): void {
    if (destination === '' || source === '') throw accessRefused(DEFAULT_EXCHANGE_REFUSED);
    const from = this.requireExchange(source);
    const to = this.requireExchange(destination);
    this.addBinding(from, to, routingKey, args);
  }

  unbindExchange(destination: string, source: string, routingKey: string, args: FieldTable): void {
    if (destination === '' || source === '') throw accessRefused(DEFAULT_EXCHANGE_REFUSED);
    const from = this.requireExchange(source);
    const to = this.requireExchange(destination);
    this.removeBindingByKey(from, to, routingKey, args);
  }

  // ---- queues ----------------------------------------------------------------------------------

  declareQueue(
    req: QueueDeclare,
    owner: SessionOwner,
  ): { queue: Queue; messageCount: number; consumerCount: number } {
    const existing = req.name === '' ? undefined : this.queueTable.get(req.name);
    if (existing !== undefined) {
      this.assertQueueEquivalent(existing, req, owner);
      existing.redeclared();
      return { queue: existing, messageCount: existing.readyCount(), consumerCount: existing.consumerCount() };
    }
    const name = req.name === '' ? this.uniqueQueueName() : req.name;
    if (req.name !== '' && hasReservedPrefix(name)) {
      throw accessRefused(`queue name '${name}' contains reserved prefix 'amq.*'`);
    }
    if (this.queueTable.size >= this.context.limits.maxQueues) {
      throw preconditionFailed(
        `cannot declare queue '${name}': queue limit in vhost '${this.name}' (${this.context.limits.maxQueues}) is reached`,
      );
    }
    const queue = new Queue(this, name, {
      durable: req.durable,
      autoDelete: req.autoDelete,
      exclusiveOwner: req.exclusive ? owner : undefined,
      arguments: req.arguments,
      defaultConsumerTimeoutMs: this.context.limits.consumerTimeoutMs,
      durableStore: this.context.durableStore,
      streamName: entityKey(this.name, name),
    });
    this.queueTable.set(name, queue);
    if (req.exclusive) this.ownedBy(owner).add(queue);
    this.policies.attach(queue);
    this.context.definitions.queueCreated(queue);
    return { queue, messageCount: 0, consumerCount: 0 };
  }

  /**
   * Passive declare: 404 if missing, 405 if another connection holds it exclusively. The direct reply-to
   * pseudo queue and live reply-to addresses exist too, as in RabbitMQ.
   */
  checkQueue(name: string, owner: SessionOwner): Queue {
    if (name === REPLY_TO_QUEUE) return this.replyToQueue;
    if (name.startsWith(REPLY_TO_PREFIX) && this.replyTo.lookup(name) !== undefined) return this.replyToQueue;
    return this.accessibleQueue(name, owner);
  }

  bindQueue(queue: string, exchange: string, routingKey: string, args: FieldTable, owner: SessionOwner): void {
    if (exchange === '') throw accessRefused(DEFAULT_EXCHANGE_REFUSED);
    const source = this.requireExchange(exchange);
    const destination = this.accessibleQueue(queue, owner);
    this.addBinding(source, destination, routingKey, args);
  }

  /** Unbinding a binding that does not exist succeeds, as in RabbitMQ. */
  unbindQueue(queue: string, exchange: string, routingKey: string, args: FieldTable, owner: SessionOwner): void {
    if (exchange === '') throw accessRefused(DEFAULT_EXCHANGE_REFUSED);
    const source = this.requireExchange(exchange);
    const destination = this.accessibleQueue(queue, owner);
    this.removeBindingByKey(source, destination, routingKey, args);
  }

  purgeQueue(name: string, owner: SessionOwner): number {
    return this.accessibleQueue(name, owner).purge();
  }

  /** Returns the ready messages dropped. A missing queue is no error (RabbitMQ: delete is idempotent). */
  deleteQueue(name: string, opts: { ifUnused: boolean; ifEmpty: boolean }, owner: SessionOwner): number {
    const queue = this.queueTable.get(name);
    if (queue === undefined) return 0;
    queue.checkAccess(owner);
    if (opts.ifUnused && queue.consumerCount() !== 0) throw preconditionFailed(`${queue.resource} in use`);
    if (opts.ifEmpty && queue.readyCount() !== 0) throw preconditionFailed(`${queue.resource} is not empty`);
    return this.destroyQueue(queue);
  }

  /** The connection closed: its exclusive queues go with it. */
  releaseOwner(owner: SessionOwner): void {
    const owned = this.ownedQueues.get(owner);
    if (owned === undefined) return;
    for (const queue of [...owned]) this.destroyQueue(queue);
    this.ownedQueues.delete(owner);
  }

  /**
   * Removes a queue and everything attached: bindings (auto-delete exchanges may follow), consumers
   * (told via cancelledByBroker), ready entries. Returns the ready entries dropped.
   * @internal front doors call deleteQueue; queues call this for auto-delete
   */
  destroyQueue(queue: Queue): number {
    if (queue.deleted || this.queueTable.get(queue.name) !== queue) return 0;
    this.queueTable.delete(queue.name);
    if (queue.exclusiveOwner !== undefined) {
      const owned = this.ownedQueues.get(queue.exclusiveOwner);
      owned?.delete(queue);
      if (owned?.size === 0) this.ownedQueues.delete(queue.exclusiveOwner);
    }
    for (const binding of [...queue.bindings]) this.removeBinding(binding);
    this.context.definitions.queueDeleted(queue);
    const dropped = queue.close();
    this.context.logger.debug({ vhost: this.name, queue: queue.name }, 'queue deleted');
    return dropped;
  }

  // ---- publishing ------------------------------------------------------------------------------

  /**
   * Routes and enqueues; dispatch to consumers happens synchronously inside. When `reached` is given,
   * the queues the message was offered to are appended to it (publisher flow control looks at them).
   */
  publish(message: Message, reached?: Queue[]): PublishOutcome {
    const exchange = this.exchangeTable.get(message.exchange);
    if (exchange === undefined) throw notFound('exchange', message.exchange, this.name);
    if (exchange.internal) throw accessRefused(`cannot publish to internal ${exchange.resource}`);
    exchange.counters.publishedIn++;
    const result =
      exchange === this.defaultExchange ? this.publishDirect(message, reached) : this.publishRouted(exchange, message, reached);
    if (result.routed === 0) exchange.counters.unroutable++;
    return result;
  }

  /**
   * A queue dead-letters a message (already rewritten with x-death): routed like a publish to its
   * exchange, except that internal exchanges are allowed, a missing exchange drops it silently, and a
   * queue it would cycle back to without a rejection is skipped (RabbitMQ's rules).
   * @internal called by Queue
   */
  publishDeadLetter(message: Message, reason: DeathReason): void {
    const exchange = this.exchangeTable.get(message.exchange);
    if (exchange === undefined) {
      this.context.logger.debug({ vhost: this.name, exchange: message.exchange }, 'dead-letter exchange missing: message dropped');
      return;
    }
    const checkCycles = reason !== 'rejected';
    if (exchange === this.defaultExchange) {
      const queue = this.queueTable.get(message.routingKey);
      if (queue !== undefined && !(checkCycles && this.isCycle(message, queue))) queue.enqueue(message);
      return;
    }
    const collector = this.publishDepth === 0 ? this.collector : new RouteCollector();
    this.publishDepth++;
    try {
      this.collectDestinations(exchange, message, collector);
      const queues = collector.queues.slice();
      collector.queues.length = 0;
      for (const queue of queues) if (!(checkCycles && this.isCycle(message, queue))) queue.enqueue(message);
    } finally {
      this.publishDepth--;
    }
  }

  private isCycle(message: Message, queue: Queue): boolean {
    if (!isDeadLetterCycle(message, queue.name)) return false;
    this.context.logger.debug({ vhost: this.name, queue: queue.name }, 'dead-letter cycle: message dropped');
    return true;
  }

  /** Direct reply-to: the address a consumer's callers put in reply_to. */
  registerReplyTo(consumer: Consumer): string {
    return this.replyTo.register(consumer);
  }

  unregisterReplyTo(consumer: Consumer): void {
    this.replyTo.unregister(consumer);
  }

  /** Everything goes: queues closed (consumers cancelled), exchanges dropped. @internal Broker.deleteVhost */
  close(): void {
    for (const queue of [...this.queueTable.values()]) this.destroyQueue(queue);
    for (const exchange of this.exchangeTable.values()) {
      exchange.deleted = true;
      exchange.router.close?.();
    }
    this.exchangeTable.clear();
    this.ownedQueues.clear();
    this.replyTo.clear();
  }

  /** Cancels pending dispatch continuations. @internal Broker.stop */
  stopTimers(): void {
    for (const queue of this.queueTable.values()) queue.stopTimers();
    for (const exchange of this.exchangeTable.values()) exchange.router.stop?.();
  }

  /**
   * Routes a message from `exchange` as if just published there, without the publish checks and
   * counters: how an exchange that holds messages (x-delayed-message) releases them later.
   * @internal exchange routers
   */
  routeFrom(exchange: Exchange, message: Message): PublishOutcome {
    if (exchange.deleted) return outcome(0, false);
    return this.publishRouted(exchange, message);
  }

  /** The default exchange: the queue named by the routing key, or a direct reply-to consumer. */
  private publishDirect(message: Message, reached: Queue[] | undefined): PublishOutcome {
    const key = message.routingKey;
    const queue = this.queueTable.get(key);
    if (queue !== undefined) {
      if (reached !== undefined) reached.push(queue);
      return outcome(1, !queue.enqueue(message));
    }
    if (key.startsWith(REPLY_TO_PREFIX)) {
      const consumer = this.replyTo.lookup(key);
      if (consumer === undefined) return outcome(0, false);
      this.replyToQueue.handOver(message, consumer);
      return outcome(1, false);
    }
    return outcome(0, false);
  }

  private publishRouted(exchange: Exchange, message: Message, reached?: Queue[]): PublishOutcome {
    // A consumer may publish from inside deliver(); the nested call must not reuse the busy collector.
    const collector = this.publishDepth === 0 ? this.collector : new RouteCollector();
    this.publishDepth++;
    try {
      this.collectDestinations(exchange, message, collector);
      const queues = collector.queues;
      let routed = 0;
      let refused = false;
      for (let i = 0; i < queues.length; i++) {
        if (queues[i]!.enqueue(message)) routed++;
        else refused = true;
      }
      if (reached !== undefined) for (let i = 0; i < queues.length; i++) reached.push(queues[i]!);
      queues.length = 0;
      return outcome(routed + collector.held, refused);
    } finally {
      this.publishDepth--;
    }
  }

  /**
   * Fills the collector with every queue the message reaches: through e2e bindings (each exchange routed
   * through once, so loops end) and, if nothing matched, through the alternate-exchange chain.
   */
  private collectDestinations(exchange: Exchange, message: Message, collector: RouteCollector): void {
    collector.begin(++this.routeEpoch);
    let current: Exchange | undefined = exchange;
    while (current !== undefined) {
      collector.visit(current);
      current.router.route(message, collector);
      const pending = collector.pending;
      while (pending.length !== 0) pending.pop()!.router.route(message, collector);
      if (collector.queues.length !== 0 || collector.held !== 0 || current.alternateExchange === undefined) return;
      const alternate = this.exchangeTable.get(current.alternateExchange);
      current = alternate === undefined || alternate.routeMark === collector.epoch ? undefined : alternate;
    }
  }

  // ---- internals -------------------------------------------------------------------------------

  private createExchange(req: ExchangeDeclare): Exchange {
    const type = this.context.exchangeTypes.get(req.type)!;
    const exchange = new Exchange(
      this,
      req.name,
      type,
      req.durable,
      req.autoDelete,
      req.internal,
      req.arguments,
    );
    this.exchangeTable.set(req.name, exchange);
    this.policies.attach(exchange);
    this.context.definitions.exchangeCreated(exchange);
    return exchange;
  }

  private assertExchangeEquivalent(exchange: Exchange, req: ExchangeDeclare): void {
    const resource = exchange.resource;
    assertFieldEquivalent('type', resource, exchange.type, req.type);
    assertFieldEquivalent('durable', resource, exchange.durable, req.durable);
    assertFieldEquivalent('auto_delete', resource, exchange.autoDelete, req.autoDelete);
    assertFieldEquivalent('internal', resource, exchange.internal, req.internal);
    const keys = ['alternate-exchange', ...(exchange.exchangeType.identityArguments ?? [])];
    assertArgumentsEquivalent(resource, exchange.arguments, req.arguments, keys);
  }

  private assertQueueEquivalent(queue: Queue, req: QueueDeclare, owner: SessionOwner): void {
    // RabbitMQ checks exclusivity strictly here: a mismatch either way is the 405 "locked" error.
    const exclusiveOwner = req.exclusive ? owner : undefined;
    if (queue.exclusiveOwner !== exclusiveOwner) throw queue.lockedError();
    assertFieldEquivalent('durable', queue.resource, queue.durable, req.durable);
    assertFieldEquivalent('auto_delete', queue.resource, queue.autoDelete, req.autoDelete);
    assertArgumentsEquivalent(
      queue.resource,
      queue.arguments,
      req.arguments,
      QUEUE_IDENTITY_ARGUMENTS,
      QUEUE_ARGUMENT_DEFAULTS,
    );
  }

  private requireExchange(name: string): Exchange {
    const exchange = this.exchangeTable.get(name);
    if (exchange === undefined) throw notFound('exchange', name, this.name);
    return exchange;
  }

  private accessibleQueue(name: string, owner: SessionOwner): Queue {
    const queue = this.queueTable.get(name);
    if (queue === undefined) throw notFound('queue', name, this.name);
    queue.checkAccess(owner);
    return queue;
  }

  private uniqueQueueName(): string {
    let name = serverQueueName();
    while (this.queueTable.has(name)) name = serverQueueName();
    return name;
  }

  private ownedBy(owner: SessionOwner): Set<Queue> {
    let owned = this.ownedQueues.get(owner);
    if (owned === undefined) {
      owned = new Set();
      this.ownedQueues.set(owner, owned);
    }
    return owned;
  }

  private addBinding(source: Exchange, destination: BindingDestination, routingKey: string, args: FieldTable): void {
    const identity = bindingIdentity(destination, routingKey, fieldTableKey(args));
    if (source.bindings.has(identity)) return;
    source.exchangeType.validateBinding?.(routingKey, args, source);
    const binding = new Binding(source, destination, routingKey, args, identity);
    source.bindings.set(identity, binding);
    source.router.addBinding(binding);
    if (destination.kind === 'queue') destination.bindings.add(binding);
    else destination.inbound.add(binding);
    this.context.definitions.bindingAdded(binding);
  }

  private removeBindingByKey(
    source: Exchange,
    destination: BindingDestination,
    routingKey: string,
    args: FieldTable,
  ): void {
    const binding = source.bindings.get(bindingIdentity(destination, routingKey, fieldTableKey(args)));
    if (binding !== undefined) this.removeBinding(binding);
  }

  /** Unlinks a binding from both ends; an auto-delete source losing its last binding is deleted. */
  private removeBinding(binding: Binding): void {
    const source = binding.source;
    if (!source.bindings.delete(binding.identity)) return;
    source.router.removeBinding(binding);
    const destination = binding.destination;
    if (destination.kind === 'queue') destination.bindings.delete(binding);
    else destination.inbound.delete(binding);
    this.context.definitions.bindingRemoved(binding);
    if (source.autoDelete && source.bindings.size === 0) this.destroyExchange(source);
  }

  private destroyExchange(exchange: Exchange): void {
    if (exchange.deleted) return;
    exchange.deleted = true;
    this.exchangeTable.delete(exchange.name);
    // Its outgoing bindings die with it; incoming ones are removed properly (their sources may auto-delete).
    for (const binding of exchange.bindings.values()) {
      const destination = binding.destination;
      if (destination.kind === 'queue') destination.bindings.delete(binding);
      else destination.inbound.delete(binding);
      this.context.definitions.bindingRemoved(binding);
    }
    exchange.bindings.clear();
    this.context.definitions.exchangeDeleted(exchange);
    exchange.router.close?.();
    for (const binding of [...exchange.inbound]) this.removeBinding(binding);
    this.context.logger.debug({ vhost: this.name, exchange: exchange.name }, 'exchange deleted');
  }
}
