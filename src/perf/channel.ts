import { FrameWriter } from '../amqp/codec/encode.js';
import { MethodId, type Method } from '../amqp/spec/generated.js';
import type { BasicProperties, FieldTable } from '../broker/message.js';
import { ChannelError, ConnectionError, ConnectionReplyCode, type ChannelReplyCode } from '../amqp/errors.js';
import type { PerfConnection } from './client.js';
import { ConfirmTracker } from './confirm-tracker.js';
import { PublishTemplate, readStamp, STAMP_BYTES } from './publish-template.js';
import { nowNs, readTag, type PendingRpc } from './wire.js';

/**
 * Called once per complete delivered message. `stampNs` is the body's first 8 bytes, or -1; `readAtNs`
 * is when the socket read that completed the message arrived (one clock reading per read, not per message).
 */
export interface DeliveryHandler {
  onDelivery(deliveryTag: number, stampNs: number, readAtNs: number): void;
  /** After all frames of one socket read: the natural moment to ack `multiple` and record latency. */
  onReadEnd(readAtNs: number): void;
  /** The broker cancelled the consumer (basic.cancel: queue deleted). */
  onCancel?(): void;
}

export interface QueueDeclareOptions {
  durable?: boolean;
  exclusive?: boolean;
  autoDelete?: boolean;
  arguments?: FieldTable;
}

/**
 * One channel of a PerfConnection: declares and other RPCs through the codec, pre-encoded publishes,
 * publisher confirms, and a consumer whose deliveries are read in place (see client.ts).
 */
export class PerfChannel {
  readonly confirms = new ConfirmTracker();
  confirmMode = false;
  /** Called after every basic.ack/basic.nack from the broker (publisher confirms). */
  onConfirmed: (() => void) | undefined;
  closed = false;

  private readonly rpcs: PendingRpc[] = [];
  private handler: DeliveryHandler | undefined;
  private deliveryTag = 0;
  private bodyRemaining = 0;
  private bodyStarted = false;
  private stamp = -1;

  constructor(
    readonly id: number,
    private readonly connection: PerfConnection,
  ) {}

  rpc(method: Method, expect: MethodId): Promise<Method> {
    if (this.connection.closed) return Promise.reject(this.connection.closedError());
    if (this.closed) return Promise.reject(new ChannelError(406 as ChannelReplyCode, 'channel is closed'));
    return new Promise<Method>((resolve, reject) => {
      this.rpcs.push({ expect, resolve, reject });
      this.connection.writer.writeMethod(this.id, method);
      this.connection.scheduleFlush();
    });
  }

  async declareQueue(name: string, options: QueueDeclareOptions = {}): Promise<{ queue: string; messageCount: number }> {
    const reply = await this.rpc(
      {
        id: MethodId.QueueDeclare,
        args: {
          reserved1: 0,
          queue: name,
          passive: false,
          durable: options.durable ?? false,
          exclusive: options.exclusive ?? false,
          autoDelete: options.autoDelete ?? false,
          noWait: false,
          arguments: options.arguments ?? {},
        },
      },
      MethodId.QueueDeclareOk,
    );
    if (reply.id !== MethodId.QueueDeclareOk) throw unexpected(reply);
    return { queue: reply.args.queue, messageCount: reply.args.messageCount };
  }

  async deleteQueue(name: string): Promise<number> {
    const reply = await this.rpc(
      { id: MethodId.QueueDelete, args: { reserved1: 0, queue: name, ifUnused: false, ifEmpty: false, noWait: false } },
      MethodId.QueueDeleteOk,
    );
    return reply.id === MethodId.QueueDeleteOk ? reply.args.messageCount : 0;
  }

  /** Empties the queue; resolves with how many messages it dropped. */
  async purgeQueue(name: string): Promise<number> {
    const reply = await this.rpc({ id: MethodId.QueuePurge, args: { reserved1: 0, queue: name, noWait: false } }, MethodId.QueuePurgeOk);
    return reply.id === MethodId.QueuePurgeOk ? reply.args.messageCount : 0;
  }

  async declareExchange(name: string, type: string, durable: boolean): Promise<void> {
    await this.rpc(
      {
        id: MethodId.ExchangeDeclare,
        args: {
          reserved1: 0,
          exchange: name,
          type,
          passive: false,
          durable,
          autoDelete: false,
          internal: false,
          noWait: false,
          arguments: {},
        },
      },
      MethodId.ExchangeDeclareOk,
    );
  }

  async deleteExchange(name: string): Promise<void> {
    await this.rpc(
      { id: MethodId.ExchangeDelete, args: { reserved1: 0, exchange: name, ifUnused: false, noWait: false } },
      MethodId.ExchangeDeleteOk,
    );
  }

  async bindQueue(queue: string, exchange: string, routingKey: string): Promise<void> {
    await this.rpc(
      { id: MethodId.QueueBind, args: { reserved1: 0, queue, exchange, routingKey, noWait: false, arguments: {} } },
      MethodId.QueueBindOk,
    );
  }

  async qos(prefetchCount: number): Promise<void> {
    await this.rpc(
      { id: MethodId.BasicQos, args: { prefetchSize: 0, prefetchCount, global: false } },
      MethodId.BasicQosOk,
    );
  }

  async confirmSelect(): Promise<void> {
    await this.rpc({ id: MethodId.ConfirmSelect, args: { nowait: false } }, MethodId.ConfirmSelectOk);
    this.confirmMode = true;
  }

  async consume(queue: string, noAck: boolean, handler: DeliveryHandler, args: FieldTable = {}): Promise<string> {
    this.handler = handler;
    this.connection.registerConsumer(this);
    const reply = await this.rpc(
      {
        id: MethodId.BasicConsume,
        args: { reserved1: 0, queue, consumerTag: '', noLocal: false, noAck, exclusive: false, noWait: false, arguments: args },
      },
      MethodId.BasicConsumeOk,
    );
    return reply.id === MethodId.BasicConsumeOk ? reply.args.consumerTag : '';
  }

  /** Acknowledges every delivery up to and including `deliveryTag`. */
  ackUpTo(deliveryTag: number): void {
    this.connection.writer.writeMethod(this.id, { id: MethodId.BasicAck, args: { deliveryTag, multiple: true } });
    this.connection.scheduleFlush();
  }

  /**
   * Publishes `count` (<= template.perBatch) pre-encoded messages in one socket write, stamped with the
   * current time. Confirm sequence numbers are assigned in order, as the broker does.
   */
  publishBatch(template: PublishTemplate, count: number): void {
    this.connection.writeRaw(template.batch(count, nowNs()));
    if (this.confirmMode) this.confirms.published(count);
  }

  /** Encodes one message's publish frames for this connection's frame-max, via the codec. */
  makeTemplate(exchange: string, routingKey: string, body: Buffer, properties: BasicProperties): PublishTemplate {
    const writer = new FrameWriter();
    writer.writeContent(
      this.id,
      { id: MethodId.BasicPublish, args: { reserved1: 0, exchange, routingKey, mandatory: false, immediate: false } },
      properties,
      undefined,
      body,
      this.connection.frameMax,
    );
    return new PublishTemplate(writer.take());
  }

  async close(): Promise<void> {
    if (this.closed) return;
    try {
      await this.rpc(
        { id: MethodId.ChannelClose, args: { replyCode: 200, replyText: 'bye', classId: 0, methodId: 0 } },
        MethodId.ChannelCloseOk,
      );
    } finally {
      this.closed = true;
      this.connection.forgetChannel(this.id);
    }
  }

  // ---- frames from the connection ----

  onDeliver(buf: Buffer, payload: number): void {
    // basic.deliver: class(2) method(2) consumer-tag shortstr, delivery-tag longlong, ...
    const tagLength = buf[payload + 4]!;
    this.deliveryTag = readTag(buf, payload + 5 + tagLength);
    this.bodyStarted = false;
    this.stamp = -1;
  }

  onHeader(buf: Buffer, payload: number): void {
    // content header: class(2) weight(2) body-size longlong, property flags...
    this.bodyRemaining = readTag(buf, payload + 4);
    if (this.bodyRemaining === 0) this.completeDelivery();
  }

  onBody(buf: Buffer, payload: number, size: number): void {
    if (!this.bodyStarted) {
      this.bodyStarted = true;
      if (size >= STAMP_BYTES) this.stamp = readStamp(buf, payload);
    }
    this.bodyRemaining -= size;
    if (this.bodyRemaining <= 0) this.completeDelivery();
  }

  onConfirm(tag: number, multiple: boolean, positive: boolean): void {
    this.confirms.settle(tag, multiple, positive);
    this.onConfirmed?.();
  }

  afterRead(readAtNs: number): void {
    this.handler?.onReadEnd(readAtNs);
  }

  onMethod(method: Method): void {
    switch (method.id) {
      case MethodId.ChannelClose: {
        this.connection.writer.writeMethod(this.id, { id: MethodId.ChannelCloseOk, args: {} });
        this.connection.flush();
        this.failAll(new ChannelError(method.args.replyCode as ChannelReplyCode, method.args.replyText));
        this.connection.forgetChannel(this.id);
        return;
      }
      case MethodId.BasicCancel:
        return this.handler?.onCancel?.();
      case MethodId.ChannelFlow:
        // channel.flow is obsolete in RabbitMQ (it uses TCP back-pressure); answer so the broker is not stuck.
        this.connection.writer.writeMethod(this.id, { id: MethodId.ChannelFlowOk, args: { active: method.args.active } });
        this.connection.scheduleFlush();
        return;
      default:
        return this.settleRpc(method);
    }
  }

  failAll(error: Error): void {
    this.closed = true;
    const rpcs = this.rpcs.splice(0);
    for (const rpc of rpcs) rpc.reject(error);
  }

  private settleRpc(method: Method): void {
    const head = this.rpcs[0];
    if (head === undefined || head.expect !== method.id) return; // unsolicited (e.g. basic.return): ignore
    this.rpcs.shift();
    head.resolve(method);
  }

  private completeDelivery(): void {
    this.handler?.onDelivery(this.deliveryTag, this.stamp, this.connection.readAtNs);
  }
}

function unexpected(method: Method): Error {
  return new ConnectionError(ConnectionReplyCode.UnexpectedFrame, `unexpected method ${method.id}`);
}
