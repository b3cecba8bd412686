import type { Logger } from 'pino';
import { RouteCollector, type RouteSink } from '../binding.js';
import { accessRefused, notFound } from '../errors.js';
import type { Exchange } from '../exchanges/exchange.js';
import type { Message } from '../message.js';
import { REPLY_TO_PREFIX } from '../names.js';
import { isDeadLetterCycle, type DeathReason } from '../queue/dead-letter.js';
import type { Queue } from '../queue/queue.js';
import type { QueueView } from '../queue-view.js';
import type { DirectReplyTo } from '../reply-to.js';
import type { ReadPacer } from '../stream/read-pacer.js';
import { senderSelectedRecipients, type Recipients } from '../sender-selected.js';
import { outcome, type PublishOutcome } from './declarations.js';
import type { Topology } from './topology.js';
import { emptyArray } from '../../util/empty-array.js';

/** Routing published messages to queues, dead letters, and direct reply-to. */
export class Publishing {
  /** The topology's tables, held directly: every publish looks them up. */
  private readonly exchanges: ReadonlyMap<string, Exchange>;
  private readonly queues: ReadonlyMap<string, Queue>;
  private readonly defaultExchange: Exchange;
  private readonly collector = new RouteCollector();
  private routeEpoch = 0;
  /** Nesting depth of publish (a consumer may publish from inside deliver). */
  private publishDepth = 0;

  constructor(
    /** The vhost's name, for reply texts and logs. */
    private readonly name: string,
    private readonly logger: Logger,
    private readonly readPacer: ReadPacer,
    topology: Topology,
    private readonly replyTo: DirectReplyTo,
    /** The pseudo queue direct reply-to deliveries carry. */
    private readonly replyToQueue: Queue,
  ) {
    this.exchanges = topology.exchanges;
    this.queues = topology.queues;
    this.defaultExchange = topology.requireExchange('');
  }

  /** See VHost.publish. */
  publish(message: Message, reached?: QueueView[]): PublishOutcome {
    const exchange = this.exchanges.get(message.exchange);
    if (exchange === undefined) throw notFound('exchange', message.exchange, this.name);
    if (exchange.internal) throw accessRefused(`cannot publish to internal ${exchange.resource}`);
    // Sender-selected distribution (CC, BCC): a message without headers pays this one check.
    const headers = message.properties.headers;
    const recipients = headers === undefined ? undefined : senderSelectedRecipients(message, headers);
    exchange.counters.publishedIn++;
    this.readPacer.noteWrites();
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
      const own = this.queues.get(message.routingKey);
      if (own !== undefined) collector.visit(own);
      for (const key of keys) {
        const queue = this.queues.get(key);
        if (queue !== undefined) collector.add(queue);
      }
      const copies = this.enqueueCollected(message, collector, reached);
      return outcome(direct.routed + copies.routed, direct.refused || copies.refused);
    } finally {
      this.publishDepth--;
    }
  }

  /** See VHost.publishDeadLetter: RabbitMQ's rules for dead letters. */
  publishDeadLetter(message: Message, reason: DeathReason): void {
    const exchange = this.exchanges.get(message.exchange);
    if (exchange === undefined) {
      this.logger.debug({ vhost: this.name, exchange: message.exchange }, 'dead-letter exchange missing: message dropped');
      return;
    }
    const checkCycles = reason !== 'rejected';
    if (exchange === this.defaultExchange) {
      const queue = this.queues.get(message.routingKey);
      if (queue !== undefined && !(checkCycles && this.isCycle(message, queue))) queue.enqueue(message);
      return;
    }
    const collector = this.publishDepth === 0 ? this.collector : new RouteCollector();
    this.publishDepth++;
    try {
      this.collectDestinations(exchange, message, collector);
      const queues = collector.queues.slice();
      emptyArray(collector.queues);
      for (const queue of queues) if (!(checkCycles && this.isCycle(message, queue))) queue.enqueue(message);
    } finally {
      this.publishDepth--;
    }
  }

  private isCycle(message: Message, queue: Queue): boolean {
    if (!isDeadLetterCycle(message, queue.name)) return false;
    this.logger.debug({ vhost: this.name, queue: queue.name }, 'dead-letter cycle: message dropped');
    return true;
  }

  /** See VHost.routeFrom (x-delayed-message releasing a message). */
  routeFrom(exchange: Exchange, message: Message): PublishOutcome {
    if (exchange.deleted) return outcome(0, false);
    return this.publishRouted(exchange, message);
  }

  /** The default exchange: the queue named by the routing key, or a direct reply-to consumer. */
  private publishDirect(message: Message, reached: QueueView[] | undefined): PublishOutcome {
    const key = message.routingKey;
    const queue = this.queues.get(key);
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

  private publishRouted(exchange: Exchange, message: Message, reached?: QueueView[], senderKeys?: readonly string[]): PublishOutcome {
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
    emptyArray(queues);
    return outcome(routed + collector.held, refused);
  }

  /**
   * Fills the collector with every queue the message reaches: through e2e bindings (each exchange routed
   * through once, so loops end) and, if nothing matched, through the alternate-exchange chain. Every
   * exchange on the way routes the sender-selected keys too, as RabbitMQ routes a delivery's keys.
   */
  private collectDestinations(
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
      const alternate = this.exchanges.get(current.alternateExchange);
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
