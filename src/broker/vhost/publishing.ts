import { RouteCollector, type RouteSink } from '../binding.js';
import type { Consumer } from '../front-door.js';
import { accessRefused, notFound } from '../errors.js';
import { Exchange } from '../exchanges/exchange.js';
import type { Message } from '../message.js';
import { REPLY_TO_PREFIX } from '../names.js';
import { isDeadLetterCycle, type DeathReason } from '../queue/dead-letter.js';
import { Queue } from '../queue/queue.js';
import type { QueueView } from '../queue-view.js';
import { senderSelectedRecipients, type Recipients } from '../sender-selected.js';
import { outcome, type PublishOutcome } from './declarations.js';
import { QueueManagement } from './queue-management.js';

/** Routing published messages to queues, dead letters, and direct reply-to. */
export abstract class Publishing extends QueueManagement {
  /**
   * Routes and enqueues; dispatch to consumers happens synchronously inside. When `reached` is given,
   * the queues the message was offered to are appended to it (publisher flow control looks at them).
   */
  publish(message: Message, reached?: QueueView[]): PublishOutcome {
    const exchange = this.exchangeTable.get(message.exchange);
    if (exchange === undefined) throw notFound('exchange', message.exchange, this.name);
    if (exchange.internal) throw accessRefused(`cannot publish to internal ${exchange.resource}`);
    // Sender-selected distribution (CC, BCC): a message without headers pays this one check.
    const headers = message.properties.headers;
    const recipients = headers === undefined ? undefined : senderSelectedRecipients(message, headers);
    exchange.counters.publishedIn++;
    let result: PublishOutcome;
    if (recipients !== undefined) result = this.publishToRecipients(exchange, recipients, reached);
    else if (exchange === this.defaultExchange) result = this.publishDirect(message, reached);
    else result = this.publishRouted(exchange, message, reached);
    if (result.routed === 0) exchange.counters.unroutable++;
    return result;
  }

  /** A message with CC or BCC keys: routed by its routing key and by each of those, each queue once. */
  private publishToRecipients(exchange: Exchange, recipients: Recipients, reached: QueueView[] | undefined): PublishOutcome {
    const { message, keys } = recipients;
    if (exchange !== this.defaultExchange) return this.publishRouted(exchange, message, reached, keys);
    // The default exchange takes every key as a queue name (RabbitMQ routes it to the usorted keys).
    const direct = this.publishDirect(message, reached);
    const collector = this.publishDepth === 0 ? this.collector : new RouteCollector();
    this.publishDepth++;
    try {
      collector.begin(++this.routeEpoch);
      const own = this.queueTable.get(message.routingKey);
      if (own !== undefined) collector.visit(own);
      for (const key of keys) {
        const queue = this.queueTable.get(key);
        if (queue !== undefined) collector.add(queue);
      }
      const copies = this.enqueueCollected(message, collector, reached);
      return outcome(direct.routed + copies.routed, direct.refused || copies.refused);
    } finally {
      this.publishDepth--;
    }
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

  protected isCycle(message: Message, queue: Queue): boolean {
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
  protected publishDirect(message: Message, reached: QueueView[] | undefined): PublishOutcome {
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

  protected publishRouted(exchange: Exchange, message: Message, reached?: QueueView[], senderKeys?: readonly string[]): PublishOutcome {
    // A consumer may publish from inside deliver(); the nested call must not reuse the busy collector.
    const collector = this.publishDepth === 0 ? this.collector : new RouteCollector();
    this.publishDepth++;
    try {
      this.collectDestinations(exchange, message, collector, senderKeys);
      return this.enqueueCollected(message, collector, reached);
    } finally {
      this.publishDepth--;
    }
  }

  /** Enqueues into every queue collected, then empties the collector. */
  private enqueueCollected(message: Message, collector: RouteCollector, reached: QueueView[] | undefined): PublishOutcome {
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
  }

  /**
   * Fills the collector with every queue the message reaches: through e2e bindings (each exchange routed
   * through once, so loops end) and, if nothing matched, through the alternate-exchange chain. Every
   * exchange on the way routes the sender-selected keys too, as RabbitMQ routes a delivery's keys.
   */
  protected collectDestinations(
    exchange: Exchange,
    message: Message,
    collector: RouteCollector,
    senderKeys?: readonly string[],
  ): void {
    collector.begin(++this.routeEpoch);
    let current: Exchange | undefined = exchange;
    while (current !== undefined) {
      collector.visit(current);
      routeThrough(current, message, collector, senderKeys);
      const pending = collector.pending;
      while (pending.length !== 0) routeThrough(pending.pop()!, message, collector, senderKeys);
      if (collector.queues.length !== 0 || collector.held !== 0 || current.alternateExchange === undefined) return;
      const alternate = this.exchangeTable.get(current.alternateExchange);
      current = alternate === undefined || alternate.routeMark === collector.epoch ? undefined : alternate;
    }
  }
}

/** One exchange routes a message: by its routing key, then by the sender-selected keys if it routes by key. */
function routeThrough(exchange: Exchange, message: Message, sink: RouteSink, senderKeys: readonly string[] | undefined): void {
  const router = exchange.router;
  router.route(message, sink);
  if (senderKeys === undefined || router.routeKey === undefined) return;
  for (const key of senderKeys) router.routeKey(key, sink);
}
