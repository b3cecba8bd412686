/**
 * A minimal, fast AMQP 0-9-1 client for the load generator. It speaks just enough of the protocol to
 * drive a broker hard: PLAIN login, tune, one or more channels, declares, publisher confirms, consumers
 * with `multiple` acks. Rare frames go through Warren's codec (src/amqp/codec); the per-message frames
 * (basic.deliver + content header + body on the way in, basic.ack confirms, pre-encoded publishes on
 * the way out) are handled in place without allocating, so the client is not what limits a benchmark.
 */
import net from 'node:net';
import { FrameParser, type Frame } from '../amqp/codec/frames.js';
import { FrameWriter } from '../amqp/codec/encode.js';
import { MethodId, type Method } from '../amqp/spec/generated.js';
import type { BasicProperties, FieldTable } from '../broker/message.js';
import { ChannelError, ConnectionError, ConnectionReplyCode, type ChannelReplyCode } from '../broker/errors.js';
import { ConfirmTracker } from './confirm-tracker.js';
import { FrameReader, type RawFrameHandler } from './frame-reader.js';
import { PublishTemplate, readStamp, STAMP_BYTES } from './publish-template.js';
import type { AmqpEndpoint } from './url.js';

const PROTOCOL_HEADER = Buffer.from([0x41, 0x4d, 0x51, 0x50, 0, 0, 9, 1]);
const CLIENT_FRAME_MAX = 131072;
const CLIENT_CHANNEL_MAX = 2047;
// (class << 16) | method, read straight off the method frame payload.
const BASIC_DELIVER = (60 << 16) | 60;
const BASIC_ACK = (60 << 16) | 80;
const BASIC_NACK = (60 << 16) | 120;
const TWO_32 = 2 ** 32;

/** Monotonic nanoseconds, comparable between processes on one machine (CLOCK_MONOTONIC). */
export function nowNs(): number {
  return Number(process.hrtime.bigint());
}

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

export interface ConnectOptions {
  /** Shown in the broker's connection list. */
  connectionName?: string;
  timeoutMs?: number;
}

interface PendingRpc {
  expect: MethodId;
  resolve(method: Method): void;
  reject(error: Error): void;
}

export class PerfConnection implements RawFrameHandler {
  frameMax = CLIENT_FRAME_MAX;
  channelMax = CLIENT_CHANNEL_MAX;
  /** connection.blocked from the broker (resource alarm): publishers should pause. */
  blocked = false;
  closed = false;
  /** nowNs() at the start of the current socket read (only kept while something consumes). */
  readAtNs = 0;
  onBlockedChange: ((blocked: boolean) => void) | undefined;
  onClosed: ((error: Error | undefined) => void) | undefined;

  readonly writer = new FrameWriter();
  private readonly reader: FrameReader;
  private readonly codec: FrameParser;
  private readonly channels: (PerfChannel | undefined)[] = [];
  private readonly consuming: PerfChannel[] = [];
  private flushScheduled = false;
  private handshake: PendingRpc | undefined;
  private closing: PendingRpc | undefined;
  private drainWaiters: (() => void)[] = [];
  private failure: Error | undefined;

  private constructor(
    private readonly socket: net.Socket,
    private readonly endpoint: AmqpEndpoint,
    private readonly options: ConnectOptions,
  ) {
    this.reader = new FrameReader(this, CLIENT_FRAME_MAX);
    this.codec = new FrameParser({ onFrame: (frame) => this.onCodecFrame(frame) }, { frameMax: CLIENT_FRAME_MAX });
    this.codec.expectProtocolHeader = false;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => this.onDrain());
    socket.on('error', (error) => this.fail(error));
    socket.on('close', () => this.fail(new ConnectionError(ConnectionReplyCode.ConnectionForced, 'socket closed')));
  }

  static async connect(endpoint: AmqpEndpoint, options: ConnectOptions = {}): Promise<PerfConnection> {
    const socket = await openSocket(endpoint, options.timeoutMs ?? 10_000);
    const connection = new PerfConnection(socket, endpoint, options);
    await connection.handshakeWith(options.timeoutMs ?? 10_000);
    return connection;
  }

  async openChannel(): Promise<PerfChannel> {
    if (this.closed) throw this.closedError();
    let id = 1;
    while (this.channels[id] !== undefined) id++;
    if (id > this.channelMax) throw new ConnectionError(ConnectionReplyCode.ChannelError, 'no free channel id');
    const channel = new PerfChannel(id, this);
    this.channels[id] = channel;
    await channel.rpc({ id: MethodId.ChannelOpen, args: { reserved1: '' } }, MethodId.ChannelOpenOk);
    return channel;
  }

  /** Graceful connection.close; resolves on close-ok or after a short wait. */
  async close(): Promise<void> {
    if (this.closed) return;
    const done = new Promise<void>((resolve) => {
      this.closing = { expect: MethodId.ConnectionCloseOk, resolve: () => resolve(), reject: () => resolve() };
    });
    this.writer.writeMethod(0, {
      id: MethodId.ConnectionClose,
      args: { replyCode: 200, replyText: 'warren perf done', classId: 0, methodId: 0 },
    });
    this.flush();
    const timer = setTimeout(() => this.closing?.resolve(undefined as never), 2000);
    await done;
    clearTimeout(timer);
    this.closed = true;
    this.socket.destroy();
  }

  /** Bytes queued in the socket and not yet handed to the kernel. */
  get writableLength(): number {
    return this.socket.writableLength;
  }

  /** Resolves when the socket buffer drains (or at once if it is empty). */
  whenDrained(callback: () => void): void {
    if (this.socket.writableLength === 0) callback();
    else this.drainWaiters.push(callback);
  }

  /** Writes raw frames now, after anything the writer holds (keeps frame order). */
  writeRaw(bytes: Buffer): void {
    this.flush();
    this.socket.write(bytes);
  }

  scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    process.nextTick(() => this.flush());
  }

  flush(): void {
    this.flushScheduled = false;
    if (this.writer.length === 0 || this.closed) return;
    this.socket.write(this.writer.take());
  }

  registerConsumer(channel: PerfChannel): void {
    if (!this.consuming.includes(channel)) this.consuming.push(channel);
  }

  forgetChannel(id: number): void {
    this.channels[id] = undefined;
    const i = this.consuming.findIndex((c) => c.id === id);
    if (i >= 0) this.consuming.splice(i, 1);
  }

  onRawFrame(type: number, channelId: number, buf: Buffer, offset: number, size: number): void {
    const channel = this.channels[channelId];
    if (channel !== undefined) {
      if (type === 3) return channel.onBody(buf, offset, size);
      if (type === 2) return channel.onHeader(buf, offset);
      if (type === 1) {
        const classMethod = buf.readUInt32BE(offset);
        if (classMethod === BASIC_DELIVER) return channel.onDeliver(buf, offset);
        if (classMethod === BASIC_ACK) return channel.onConfirm(readTag(buf, offset + 4), buf[offset + 12]! !== 0, true);
        if (classMethod === BASIC_NACK) return channel.onConfirm(readTag(buf, offset + 4), (buf[offset + 12]! & 1) !== 0, false);
      }
    }
    if (type === 8) return; // heartbeat: we ask for none, but a broker may send them anyway
    // Everything else is rare: let the codec decode it (it needs the whole frame, header and end octet).
    this.codec.push(buf.subarray(offset - 7, offset + size + 1));
  }

  private onData(chunk: Buffer): void {
    const consuming = this.consuming.length > 0;
    if (consuming) this.readAtNs = nowNs();
    try {
      this.reader.push(chunk);
    } catch (error) {
      this.fail(error as Error);
      return;
    }
    if (consuming) for (const channel of this.consuming) channel.afterRead(this.readAtNs);
  }

  private onCodecFrame(frame: Frame): void {
    if (frame.type !== 1) return; // content for methods we never asked for (basic.return) is dropped
    if (frame.channel === 0) return this.onConnectionMethod(frame.method);
    const channel = this.channels[frame.channel];
    if (channel !== undefined) channel.onMethod(frame.method);
  }

  private onConnectionMethod(method: Method): void {
    switch (method.id) {
      case MethodId.ConnectionStart:
        return this.sendStartOk();
      case MethodId.ConnectionTune:
        return this.sendTuneOk(method.args.channelMax, method.args.frameMax);
      case MethodId.ConnectionOpenOk:
        return this.handshake?.resolve(method);
      case MethodId.ConnectionClose: {
        this.writer.writeMethod(0, { id: MethodId.ConnectionCloseOk, args: {} });
        this.flush();
        const error = new ConnectionError(method.args.replyCode as ConnectionReplyCode, method.args.replyText);
        return this.fail(error);
      }
      case MethodId.ConnectionCloseOk:
        return this.closing?.resolve(method);
      case MethodId.ConnectionBlocked:
      case MethodId.ConnectionUnblocked:
        this.blocked = method.id === MethodId.ConnectionBlocked;
        return this.onBlockedChange?.(this.blocked);
      default:
        return;
    }
  }

  private handshakeWith(timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`AMQP handshake timed out after ${timeoutMs} ms`)), timeoutMs);
      this.handshake = {
        expect: MethodId.ConnectionOpenOk,
        resolve: () => {
          clearTimeout(timer);
          this.handshake = undefined;
          resolve();
        },
        reject: (error) => {
          clearTimeout(timer);
          this.handshake = undefined;
          reject(error);
        },
      };
      this.socket.write(PROTOCOL_HEADER);
    });
  }

  private sendStartOk(): void {
    const { username, password } = this.endpoint;
    const clientProperties: FieldTable = {
      product: 'warren perf',
      platform: `Node.js ${process.version}`,
      capabilities: {
        publisher_confirms: true,
        consumer_cancel_notify: true,
        'basic.nack': true,
        'connection.blocked': true,
        // Without it RabbitMQ (and Warren) drop the socket on a refused login instead of saying why.
        authentication_failure_close: true,
      },
    };
    if (this.options.connectionName !== undefined) clientProperties['connection_name'] = this.options.connectionName;
    this.writer.writeMethod(0, {
      id: MethodId.ConnectionStartOk,
      args: {
        clientProperties,
        mechanism: 'PLAIN',
        response: Buffer.from(`\0${username}\0${password}`, 'utf8'),
        locale: 'en_US',
      },
    });
    this.flush();
  }

  private sendTuneOk(serverChannelMax: number, serverFrameMax: number): void {
    // 0 means "no limit" from the server (spec: connection.tune).
    this.channelMax = serverChannelMax === 0 ? CLIENT_CHANNEL_MAX : Math.min(serverChannelMax, CLIENT_CHANNEL_MAX);
    this.frameMax = serverFrameMax === 0 ? CLIENT_FRAME_MAX : Math.min(serverFrameMax, CLIENT_FRAME_MAX);
    this.reader.frameMax = this.frameMax;
    this.codec.frameMax = this.frameMax;
    // Heartbeat 0: a load tool's connections are busy and short-lived; missed heartbeats would only add noise.
    this.writer.writeMethod(0, {
      id: MethodId.ConnectionTuneOk,
      args: { channelMax: this.channelMax, frameMax: this.frameMax, heartbeat: 0 },
    });
    this.writer.writeMethod(0, {
      id: MethodId.ConnectionOpen,
      args: { virtualHost: this.endpoint.vhost, reserved1: '', reserved2: false },
    });
    this.flush();
  }

  private onDrain(): void {
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const waiter of waiters) waiter();
  }

  /** Why the connection is gone (for calls made after it closed). */
  closedError(): Error {
    return this.failure ?? new ConnectionError(ConnectionReplyCode.ConnectionForced, 'connection closed');
  }

  private fail(error: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.failure = error;
    this.socket.destroy();
    this.handshake?.reject(error);
    this.closing?.resolve(undefined as never);
    for (const channel of this.channels) channel?.failAll(error);
    this.onDrain();
    this.onClosed?.(error);
  }
}

export interface QueueDeclareOptions {
  durable?: boolean;
  exclusive?: boolean;
  autoDelete?: boolean;
  arguments?: FieldTable;
}

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

  async consume(queue: string, noAck: boolean, handler: DeliveryHandler): Promise<string> {
    this.handler = handler;
    this.connection.registerConsumer(this);
    const reply = await this.rpc(
      {
        id: MethodId.BasicConsume,
        args: { reserved1: 0, queue, consumerTag: '', noLocal: false, noAck, exclusive: false, noWait: false, arguments: {} },
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

/** A 64-bit big-endian integer as a double (exact below 2^53: delivery tags and nanosecond stamps). */
function readTag(buf: Buffer, offset: number): number {
  return buf.readUInt32BE(offset) * TWO_32 + buf.readUInt32BE(offset + 4);
}

function unexpected(method: Method): Error {
  return new ConnectionError(ConnectionReplyCode.UnexpectedFrame, `unexpected method ${method.id}`);
}

function openSocket(endpoint: AmqpEndpoint, timeoutMs: number): Promise<net.Socket> {
  return new Promise<net.Socket>((resolve, reject) => {
    const socket = net.connect({ host: endpoint.host, port: endpoint.port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`connect to ${endpoint.host}:${endpoint.port} timed out`));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      resolve(socket);
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}
