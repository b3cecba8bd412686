import { assertArgumentsEquivalent, assertFieldEquivalent } from '../arguments.js';
import type { SessionOwner } from '../front-door.js';
import { accessRefused, preconditionFailed } from '../errors.js';
import type { FieldTable } from '../message.js';
import { hasReservedPrefix, REPLY_TO_PREFIX, REPLY_TO_QUEUE, serverQueueName } from '../names.js';
import { entityKey } from '../persistence/definitions.js';
import { Queue } from '../queue/queue.js';
import { DEFAULT_EXCHANGE_REFUSED, QUEUE_IDENTITY_ARGUMENTS, QUEUE_ARGUMENT_DEFAULTS, type QueueDeclare } from './declarations.js';
import { ExchangeManagement } from './exchange-management.js';

/**
 * Declaring, checking, binding, purging and deleting queues (the AMQP queue.* methods), and exclusive
 * queues, which go when the connection that owns them closes.
 */
export abstract class QueueManagement extends ExchangeManagement {
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
    const queue = new Queue(this.self, name, {
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

  protected assertQueueEquivalent(queue: Queue, req: QueueDeclare, owner: SessionOwner): void {
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

  protected uniqueQueueName(): string {
    let name = serverQueueName();
    while (this.queueTable.has(name)) name = serverQueueName();
    return name;
  }

  protected ownedBy(owner: SessionOwner): Set<Queue> {
    let owned = this.ownedQueues.get(owner);
    if (owned === undefined) {
      owned = new Set();
      this.ownedQueues.set(owner, owned);
    }
    return owned;
  }
}
