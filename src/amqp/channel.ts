import type { ConsumerDetails, QueueEntry } from '../broker/front-door.js';
import { channelName, type ChannelInfo } from '../session/views.js';
import { preconditionFailed } from '../broker/errors.js';
import { ChannelError, ChannelReplyCode, ConnectionError, ConnectionReplyCode } from './errors.js';
import { Message } from '../broker/message.js';
import { REPLY_TO_QUEUE } from '../broker/names.js';
import type { QueueView } from '../broker/queue-view.js';
import type { VHost } from '../broker/vhost.js';
import { Acknowledgements, type AckHost } from './channel/acks.js';
import { SessionAccess } from '../session/access.js';
import { PublisherConfirms, type ConfirmSink } from '../session/confirms.js';
import { AmqpConsumer, type ConsumerChannel } from './channel/consumer.js';
import { ContentAssembler } from './channel/content-assembly.js';
import type { ChannelHost } from './channel/host.js';
import type { Transaction } from './channel/transaction.js';
import { FRAME_BODY, FRAME_HEADER, FRAME_METHOD, type Frame } from './codec/frames.js';
import { basicHandlers } from './handlers/basic.js';
import { channelFlowHandlers } from './handlers/channel-flow.js';
import { confirmHandlers } from './handlers/confirm.js';
import { exchangeHandlers } from './handlers/exchange.js';
import { queueHandlers } from './handlers/queue.js';
import { txHandlers } from './handlers/tx.js';
import type { HandlerTable } from './handlers/types.js';
import { MethodId, methodNames, type Method } from './spec/generated.js';
import { emptyArray } from '../util/empty-array.js';

export type { ChannelHost } from './channel/host.js';

/**
 * Consumer-timeout extension (Warren): publishing to this exchange, on the channel that got the
 * delivery, with the delivery tag as the routing key (decimal) gives that delivery the queue's full
 * consumer timeout again. Nothing is routed; with confirms, ack = extended, nack = no such delivery.
 */
export const TOUCH_EXCHANGE = 'amq.warren.touch';

type AnyHandler = (channel: Channel, args: unknown) => void;

/** Method id -> handler, built once from the per-class tables; immutable. */
const dispatch: ReadonlyMap<number, AnyHandler> = buildDispatch([
  exchangeHandlers,
  queueHandlers,
  basicHandlers,
  confirmHandlers,
  txHandlers,
  channelFlowHandlers,
]);

function buildDispatch(tables: readonly HandlerTable[]): Map<number, AnyHandler> {
  const map = new Map<number, AnyHandler>();
  for (const table of tables) {
    for (const [id, handler] of Object.entries(table)) map.set(Number(id), handler as AnyHandler);
  }
  return map;
}

/**
 * One open AMQP channel: turns the client's methods and content into calls on the broker core, and the
 * core's deliveries into frames. Handlers (src/amqp/handlers) work on its public state.
 */
export class Channel implements ConsumerChannel, AckHost, ConfirmSink {
  readonly vhost: VHost;
  readonly content: ContentAssembler;
  readonly acks: Acknowledgements;
  /** RabbitMQ's permission rules for this channel's user and vhost (session/access.ts). */
  readonly access: SessionAccess;
  /** Consumers by tag (the direct reply-to consumer included). */
  readonly consumers = new Map<string, AmqpConsumer>();
  /** basic.qos global=false: the prefetch-count given to consumers created from now on (0 = none). */
  consumerPrefetch = 0;
  /** basic.qos global=true: unacked deliveries all ack-mode consumers of the channel may hold together. */
  channelPrefetch = 0;
  /** channel.flow: false stops deliveries to this channel's consumers. */
  flowActive = true;
  /** Set by confirm.select. */
  confirms: PublisherConfirms | undefined = undefined;
  /** Set by tx.select. */
  tx: Transaction | undefined = undefined;
  /** Direct reply-to: the consumer of 'amq.rabbitmq.reply-to' and the address publishers get. */
  replyTo: { consumer: AmqpConsumer; address: string } | undefined = undefined;
  /** The queue last declared here: "" stands for it in later queue methods (spec, queue.bind). */
  lastQueueName: string | undefined = undefined;

  private closed = false;
  /** Unacked deliveries to consumers (not basic.get), for channelPrefetch. */
  private consumerUnacked = 0;
  /** While a tx.commit waits to be durable, later frames wait too, so replies keep their order. */
  private heldFrames: Frame[] | undefined = undefined;
  /** Queues the current publish reached, for publisher flow control. Reused. */
  private readonly reachedQueues: QueueView[] = [];
  /** Queues to resume once a batch of acks has freed prefetch. Reused. */
  private readonly queuesToResume: QueueView[] = [];

  constructor(
    readonly id: number,
    readonly host: ChannelHost,
  ) {
    this.vhost = host.vhost;
    this.content = new ContentAssembler(host.maxMessageBytes);
    this.acks = new Acknowledgements(this);
    this.access = new SessionAccess(host.users, host.user, this.vhost.name);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** ConsumerChannel: where this channel is, for /api/consumers. */
  get location(): ConsumerDetails['channel'] {
    const connection = this.host.connection;
    return {
      name: channelName(connection, this.id),
      number: this.id,
      connectionName: connection.name,
      peerHost: connection.peerHost,
      peerPort: connection.peerPort,
      user: this.host.user.name,
    };
  }

  /** ChannelLike: the management snapshot (RabbitMQ's /api/channels fields). */
  describe(number: number): ChannelInfo {
    return {
      number,
      state: this.flowActive ? 'running' : 'flow',
      consumerCount: this.consumers.size,
      prefetchCount: this.consumerPrefetch,
      globalPrefetchCount: this.channelPrefetch,
      unacknowledged: this.acks.outstanding,
      confirm: this.confirms !== undefined,
      transactional: this.tx !== undefined,
    };
  }

  /** Every frame for this channel between channel.open-ok and channel.close. Throws broker errors. */
  handleFrame(frame: Frame): void {
    if (this.closed) return;
    if (this.heldFrames !== undefined) {
      this.heldFrames.push(frame);
      return;
    }
    switch (frame.type) {
      case FRAME_METHOD:
        this.handleMethod(frame.method);
        return;
      case FRAME_HEADER:
        if (this.content.onHeader(frame.classId, frame.bodySize, frame.properties, frame.encodedProperties)) {
          this.completePublish();
        }
        return;
      case FRAME_BODY:
        if (this.content.onBody(frame.payload)) this.completePublish();
        return;
      default:
        // Heartbeats belong to channel 0; the connection layer handles them.
        return;
    }
  }

  /** The socket drained: consumers may take more. */
  resume(): void {
    if (this.closed) return;
    this.resumeAllConsumers();
  }

  /**
   * The channel is gone: cancel consumers, requeue unacked deliveries in order (those an open
   * transaction had acked too), drop the transaction, unregister direct reply-to. Idempotent.
   */
  teardown(): void {
    if (this.closed) return;
    this.closed = true;
    this.heldFrames = undefined;
    this.confirms?.stop();
    for (const consumer of this.consumers.values()) {
      consumer.active = false;
      if (consumer.queue !== undefined) removeConsumerQuietly(consumer.queue, consumer);
    }
    this.consumers.clear();
    if (this.replyTo !== undefined) {
      this.vhost.unregisterReplyTo(this.replyTo.consumer);
      this.replyTo = undefined;
    }
    const heldByTx = this.tx?.takenDeliveries() ?? [];
    this.tx = undefined;
    this.acks.requeueAll(heldByTx);
  }

  // ---- replies ---------------------------------------------------------------------------------

  send(method: Method): void {
    this.host.writer.writeMethod(this.id, method);
    this.host.scheduleFlush();
  }

  /** "" means the queue last declared on this channel; RabbitMQ: 404 "no previously declared queue". */
  resolveQueueName(name: string): string {
    if (name !== '') return name;
    if (this.lastQueueName === undefined) {
      throw new ChannelError(ChannelReplyCode.NotFound, 'no previously declared queue');
    }
    return this.lastQueueName;
  }

  // ---- publishing ------------------------------------------------------------------------------

  private completePublish(): void {
    const c = this.content;
    const { exchange, routingKey, mandatory, properties, encodedProperties } = c;
    const body = c.takeBody();
    if (properties.userId !== undefined && properties.userId !== this.host.user.name) {
      throw preconditionFailed(
        `user_id property set to '${properties.userId}' but authenticated user was '${this.host.user.name}'`,
      );
    }
    if (exchange === TOUCH_EXCHANGE) return this.touchDelivery(routingKey);
    let message = new Message(exchange, routingKey, properties, body, encodedProperties);
    if (properties.replyTo === REPLY_TO_QUEUE) message = this.withReplyAddress(message);
    if (this.tx !== undefined) {
      this.tx.operations.push({ kind: 'publish', message, mandatory });
      return;
    }
    this.route(message, mandatory);
  }

  /** Routes one message; an unroutable mandatory one comes back as basic.return before its confirm. */
  route(message: Message, mandatory: boolean): void {
    const reached = this.reachedQueues;
    const outcome = this.vhost.publish(message, reached);
    if (reached.length !== 0) {
      this.host.publishedTo?.(reached);
      this.joinBarriers(reached);
      emptyArray(reached);
    }
    if (outcome.routed === 0 && mandatory) this.returnMessage(message, 312, 'NO_ROUTE');
    if (this.confirms !== undefined) this.confirms.accept(outcome.refused);
  }

  /** Queues owned by other nodes or kept in a replicated store add what a confirm or commit waits for. */
  private joinBarriers(reached: readonly QueueView[]): void {
    for (let i = 0; i < reached.length; i++) {
      const barrier = reached[i]!.durability;
      if (barrier === undefined) continue;
      this.confirms?.join(barrier);
      this.tx?.barriers.join(barrier);
    }
  }

  /** amq.warren.touch: extend the consumer timeout of one outstanding delivery of this channel. */
  private touchDelivery(routingKey: string): void {
    const tag = /^[1-9][0-9]*$/.test(routingKey) ? Number(routingKey) : 0;
    const delivery = tag === 0 ? undefined : this.acks.lookup(tag);
    const extended = delivery !== undefined && delivery.queue.extendDelivery(delivery.entry);
    if (this.confirms !== undefined) this.confirms.accept(!extended);
  }

  private withReplyAddress(message: Message): Message {
    if (this.replyTo === undefined) throw preconditionFailed('fast reply consumer does not exist');
    return message.withProperties({ ...message.properties, replyTo: this.replyTo.address });
  }

  private returnMessage(message: Message, replyCode: number, replyText: string): void {
    this.host.writer.writeContent(
      this.id,
      {
        id: MethodId.BasicReturn,
        args: { replyCode, replyText, exchange: message.exchange, routingKey: message.routingKey },
      },
      message.properties,
      message.encodedProperties,
      message.body,
      this.host.frameMax,
    );
    this.host.scheduleFlush();
  }

  /** ConfirmSink: basic.ack / basic.nack to the publisher. */
  confirm(deliveryTag: number, multiple: boolean, ack: boolean): void {
    if (this.closed) return;
    this.host.writer.writeConfirm(this.id, deliveryTag, multiple, ack);
    this.host.scheduleFlush();
  }

  // ---- consumers and deliveries ----------------------------------------------------------------

  channelCanTake(noAck: boolean): boolean {
    return (
      !this.closed &&
      this.flowActive &&
      this.host.writable() &&
      (noAck || this.channelPrefetch === 0 || this.consumerUnacked < this.channelPrefetch)
    );
  }

  /** Hot path: one basic.deliver + content, the publisher's property bytes reused. */
  deliverTo(consumer: AmqpConsumer, entry: QueueEntry, queue: QueueView): void {
    const tag = this.acks.assignTag(entry, queue, consumer, consumer.noAck);
    if (!consumer.noAck) {
      consumer.unacked++;
      this.consumerUnacked++;
    }
    const message = entry.message;
    this.host.writer.writeDeliver(
      this.id,
      consumer.tag,
      tag,
      entry.redelivered,
      message.exchange,
      message.routingKey,
      message.properties,
      message.encodedProperties,
      message.body,
      this.host.frameMax,
    );
    this.host.scheduleFlush();
  }

  /** basic.get: numbered like deliveries; remembered for ack unless no-ack. */
  deliverGot(entry: QueueEntry, queue: QueueView, noAck: boolean): void {
    const tag = this.acks.assignTag(entry, queue, undefined, noAck);
    const message = entry.message;
    this.host.writer.writeContent(
      this.id,
      {
        id: MethodId.BasicGetOk,
        args: {
          deliveryTag: tag,
          redelivered: entry.redelivered,
          exchange: message.exchange,
          routingKey: message.routingKey,
          messageCount: queue.readyCount(),
        },
      },
      message.properties,
      message.encodedProperties,
      message.body,
      this.host.frameMax,
    );
    this.host.scheduleFlush();
  }

  /** The queue was deleted under the consumer: tell clients that asked (consumer_cancel_notify). */
  consumerCancelledByBroker(consumer: AmqpConsumer, _queue: QueueView): void {
    if (this.consumers.get(consumer.tag) !== consumer) return;
    this.consumers.delete(consumer.tag);
    consumer.active = false;
    if (this.closed || !this.host.clientCapabilities.consumerCancelNotify) return;
    this.send({ id: MethodId.BasicCancel, args: { consumerTag: consumer.tag, noWait: true } });
  }

  /** AckHost: one delivery to `consumer` was settled. */
  credit(consumer: AmqpConsumer): void {
    consumer.unacked--;
    this.consumerUnacked--;
    const queue = consumer.queue;
    if (queue !== undefined && consumer.active && !this.queuesToResume.includes(queue)) {
      this.queuesToResume.push(queue);
    }
  }

  /** AckHost: after a batch of credits, let the queues dispatch into the freed capacity. */
  afterCredit(): void {
    if (this.closed) {
      emptyArray(this.queuesToResume);
      return;
    }
    if (this.channelPrefetch !== 0) {
      // The shared limit may have held back every consumer of the channel.
      emptyArray(this.queuesToResume);
      this.resumeAllConsumers();
      return;
    }
    for (let i = 0; i < this.queuesToResume.length; i++) (this.queuesToResume[i] as QueueView).resumeDispatch();
    emptyArray(this.queuesToResume);
  }

  resumeAllConsumers(): void {
    for (const consumer of this.consumers.values()) {
      if (consumer.queue !== undefined) consumer.queue.resumeDispatch();
    }
  }

  // ---- tx.commit ordering ----------------------------------------------------------------------

  /** Hold later frames until releaseHeldFrames (tx.commit waiting for durability). */
  holdFrames(): void {
    this.heldFrames ??= [];
  }

  releaseHeldFrames(): void {
    const held = this.heldFrames;
    this.heldFrames = undefined;
    if (held === undefined) return;
    for (let i = 0; i < held.length; i++) {
      try {
        this.handleFrame(held[i] as Frame);
      } catch (error) {
        this.failAsync(error);
        return;
      }
      if (this.heldFrames !== undefined) {
        // Another tx.commit among them: the rest waits for that one.
        (this.heldFrames as Frame[]).push(...held.slice(i + 1));
        return;
      }
    }
  }

  /** An error found while frames were held (tx.commit could not be made durable). */
  failHeld(error: unknown): void {
    this.heldFrames = undefined;
    this.failAsync(error);
  }

  private failAsync(error: unknown): void {
    if (this.host.reportAsyncError !== undefined) this.host.reportAsyncError(this.id, error);
    else this.teardown();
  }

  private handleMethod(method: Method): void {
    this.content.assertIdle();
    const handler = dispatch.get(method.id);
    if (handler === undefined) {
      throw new ConnectionError(
        ConnectionReplyCode.CommandInvalid,
        `unimplemented method ${methodNames[method.id] ?? method.id}`,
      );
    }
    handler(this, method.args);
  }
}

function removeConsumerQuietly(queue: QueueView, consumer: AmqpConsumer): void {
  try {
    queue.removeConsumer(consumer);
  } catch {
    // The queue is already gone (deleted, or its vhost); nothing left to cancel.
  }
}
