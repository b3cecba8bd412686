/**
 * A minimal, fast AMQP 0-9-1 client for the load generator. It speaks just enough of the protocol to
 * drive a broker hard: PLAIN login, tune, one or more channels, declares, publisher confirms, consumers
 * with `multiple` acks. Rare frames go through Warren's codec (src/amqp/codec); the per-message frames
 * (basic.deliver + content header + body on the way in, basic.ack confirms, pre-encoded publishes on
 * the way out) are handled in place without allocating, so the client is not what limits a benchmark.
 */
import net from 'node:net';
import { FrameParser, amqpProtocolHeader, type Frame } from '../amqp/codec/frames.js';
import { FrameWriter } from '../amqp/codec/encode.js';
import { MethodId, type Method } from '../amqp/spec/generated.js';
import type { FieldTable } from '../broker/message.js';
import { ConnectionError, ConnectionReplyCode } from '../amqp/errors.js';
import { PerfChannel } from './channel.js';
import { FrameReader, type RawFrameHandler } from './frame-reader.js';
import type { AmqpEndpoint } from './url.js';
import { nowNs, readTag, type PendingRpc } from './wire.js';

export { PerfChannel, type DeliveryHandler, type QueueDeclareOptions } from './channel.js';
export { nowNs } from './wire.js';

const CLIENT_FRAME_MAX = 131072;
const CLIENT_CHANNEL_MAX = 2047;
// (class << 16) | method, read straight off the method frame payload.
const BASIC_DELIVER = (60 << 16) | 60;
const BASIC_ACK = (60 << 16) | 80;
const BASIC_NACK = (60 << 16) | 120;

export interface ConnectOptions {
  /** Shown in the broker's connection list. */
  connectionName?: string;
  timeoutMs?: number;
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
      this.socket.write(amqpProtocolHeader());
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
