import { assertArgumentsEquivalent, assertFieldEquivalent } from '../arguments.js';
import type { SessionOwner } from '../front-door.js';
import { accessRefused, notImplemented, preconditionFailed } from '../errors.js';
import type { FieldTable } from '../message.js';
import { hasReservedPrefix, REPLY_TO_PREFIX, REPLY_TO_QUEUE, serverQueueName } from '../names.js';
import { entityKey } from '../persistence/definitions.js';
import type { VHostPolicies } from '../policies/vhost-policies.js';
import { Queue } from '../queue/queue.js';
import type { DirectReplyTo } from '../reply-to.js';
import type { VHost } from '../vhost.js';
import { DEFAULT_EXCHANGE_REFUSED, QUEUE_IDENTITY_ARGUMENTS, QUEUE_ARGUMENT_DEFAULTS, type QueueDeclare, type VHostContext } from './declarations.js';
import type { Topology } from './topology.js';

/**
 * Declaring, checking, binding, purging and deleting queues (the AMQP queue.* methods), and exclusive
 * queues, which go when the connection that owns them closes.
 */
export class QueueManagement {
  /** Exclusive queues by the connection that owns them. */
  private readonly ownedQueues = new Map<SessionOwner, Set<Queue>>();

  constructor(
    private readonly vhost: VHost,
    private readonly context: VHostContext,
    private readonly topology: Topology,
    private readonly policies: VHostPolicies,
    /** Direct reply-to: its pseudo queue and live addresses pass a passive declare. */
    private readonly replyTo: DirectReplyTo,
    private readonly replyToQueue: Queue,
  ) {}

  declareQueue(
    req: QueueDeclare,
    owner: SessionOwner,
  ): { queue: Queue; messageCount: number; consumerCount: number } {
    const existing = req.name === '' ? undefined : this.topology.queues.get(req.name);
    if (existing !== undefined) {
      this.assertQueueEquivalent(existing, req, owner);
      existing.redeclared();
      return { queue: existing, messageCount: existing.readyCount(), consumerCount: existing.consumerCount() };
    }
    const name = req.name === '' ? this.uniqueQueueName() : req.name;
    if (req.name !== '' && hasReservedPrefix(name)) {
      throw accessRefused(`queue name '${name}' contains reserved prefix 'amq.*'`);
    }
    if (this.topology.queues.size >= this.context.limits.maxQueues) {
      throw preconditionFailed(
        `cannot declare queue '${name}': queue limit in vhost '${this.vhost.name}' (${this.context.limits.maxQueues}) is reached`,
      );
    }
    if (this.context.placement !== undefined && req.arguments['x-queue-type'] === 'stream') {
      // Each node would keep its own log of the same stream: refused until streams are placed like queues.
      throw notImplemented(`cannot declare queue '${name}' in vhost '${this.vhost.name}': stream queues are not available in a cluster yet`);
    }
    const queue = new Queue(this.vhost, name, {
      durable: req.durable,
      autoDelete: req.autoDelete,
      exclusiveOwner: req.exclusive ? owner : undefined,
      arguments: req.arguments,
      defaultConsumerTimeoutMs: this.context.limits.consumerTimeoutMs,
      durableStore: this.context.placement?.storeFor(req.arguments, this.context.durableStore) ?? this.context.durableStore,
      streamName: entityKey(this.vhost.name, name),
      streamLogs: this.context.streamLogs,
    });
    const remote = this.context.placement?.remoteOwnerFor(queue);
    if (remote !== undefined) queue.serveFrom(remote);
    this.topology.queues.set(name, queue);
    if (req.exclusive) this.ownedBy(owner).add(queue);
    this.policies.attach(queue);
    this.context.definitions.queueCreated(queue);
    return { queue, messageCount: 0, consumerCount: 0 };
  }

  /** See VHost.checkQueue: the direct reply-to pseudo queue and live reply-to addresses exist too. */
  checkQueue(name: string, owner: SessionOwner): Queue {
    if (name === REPLY_TO_QUEUE) return this.replyToQueue;
    if (name.startsWith(REPLY_TO_PREFIX) && this.replyTo.lookup(name) !== undefined) return this.replyToQueue;
    return this.topology.accessibleQueue(name, owner);
  }

  bindQueue(queue: string, exchange: string, routingKey: string, args: FieldTable, owner: SessionOwner): void {
    if (exchange === '') throw accessRefused(DEFAULT_EXCHANGE_REFUSED);
    const source = this.topology.requireExchange(exchange);
    const destination = this.topology.accessibleQueue(queue, owner);
    this.topology.addBinding(source, destination, routingKey, args);
  }

  /** Unbinding a binding that does not exist succeeds, as in RabbitMQ. */
  unbindQueue(queue: string, exchange: string, routingKey: string, args: FieldTable, owner: SessionOwner): void {
    if (exchange === '') throw accessRefused(DEFAULT_EXCHANGE_REFUSED);
    const source = this.topology.requireExchange(exchange);
    const destination = this.topology.accessibleQueue(queue, owner);
    this.topology.removeBindingByKey(source, destination, routingKey, args);
  }

  purgeQueue(name: string, owner: SessionOwner): number {
    return this.topology.accessibleQueue(name, owner).purge();
  }

  /** Returns the ready messages dropped. A missing queue is no error (RabbitMQ: delete is idempotent). */
  deleteQueue(name: string, opts: { ifUnused: boolean; ifEmpty: boolean }, owner: SessionOwner): number {
    const queue = this.topology.queues.get(name);
    if (queue === undefined) return 0;
    queue.checkAccess(owner);
    if (opts.ifUnused && queue.consumerCount() !== 0) throw preconditionFailed(`${queue.resource} in use`);
    if (opts.ifEmpty && queue.readyCount() !== 0) throw preconditionFailed(`${queue.resource} is not empty`);
    return this.destroyQueue(queue);
  }

  /** The vhost is deleted: every queue goes (consumers cancelled). */
  destroyAll(): void {
    for (const queue of [...this.topology.queues.values()]) this.destroyQueue(queue);
    this.ownedQueues.clear();
  }

  /** The connection closed: its exclusive queues go with it. */
  releaseOwner(owner: SessionOwner): void {
    const owned = this.ownedQueues.get(owner);
    if (owned === undefined) return;
    for (const queue of [...owned]) this.destroyQueue(queue);
    this.ownedQueues.delete(owner);
  }

  /** See VHost.destroyQueue: the queue and everything attached go. */
  destroyQueue(queue: Queue): number {
    if (queue.deleted || this.topology.queues.get(queue.name) !== queue) return 0;
    this.topology.queues.delete(queue.name);
    if (queue.exclusiveOwner !== undefined) {
      const owned = this.ownedQueues.get(queue.exclusiveOwner);
      owned?.delete(queue);
      if (owned?.size === 0) this.ownedQueues.delete(queue.exclusiveOwner);
    }
    for (const binding of [...queue.bindings]) this.topology.removeBinding(binding);
    this.context.definitions.queueDeleted(queue);
    const dropped = queue.close();
    this.context.logger.debug({ vhost: this.vhost.name, queue: queue.name }, 'queue deleted');
    return dropped;
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

  private uniqueQueueName(): string {
    let name = serverQueueName();
    while (this.topology.queues.has(name)) name = serverQueueName();
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
}
