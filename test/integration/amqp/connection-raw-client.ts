import { connect as connectTcp, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { FrameWriter } from '../../../src/amqp/codec/encode.js';
import { FrameParser, type Frame } from '../../../src/amqp/codec/frames.js';
import { PROTOCOL_HEADER } from '../../../src/amqp/handshake.js';
import { MethodId, type Method, type MethodArgs } from '../../../src/amqp/spec/generated.js';
import type { FieldTable } from '../../../src/broker/message.js';

/** What a test client offers in tune-ok and open. */
export interface RawHandshakeOptions {
  user?: string;
  password?: string;
  vhost?: string;
  /** 0 = take the server's */
  frameMax?: number;
  channelMax?: number;
  heartbeat?: number;
  capabilities?: FieldTable;
}

export const AMQPLIB_LIKE_CAPABILITIES: FieldTable = {
  publisher_confirms: true,
  exchange_exchange_bindings: true,
  'basic.nack': true,
  consumer_cancel_notify: true,
  'connection.blocked': true,
  authentication_failure_close: true,
};

/**
 * A byte-level AMQP client for tests that must misbehave: skip heartbeats, send oversize frames, open
 * channels out of range. It decodes what the server sends with Warren's own codec.
 */
export class RawAmqpClient {
  private readonly frames: Frame[] = [];
  private waiter: (() => void) | undefined;
  private ended = false;
  readonly closed: Promise<void>;
  readonly rawBytes: Buffer[] = [];
  private readonly parser = new FrameParser({ onFrame: (frame) => this.onFrame(frame) }, { frameMax: 1 << 24 });
  private readonly writer = new FrameWriter();

  private constructor(readonly socket: Socket) {
    this.parser.expectProtocolHeader = false;
    socket.on('data', (chunk: Buffer) => {
      this.rawBytes.push(chunk);
      try {
        this.parser.push(chunk);
      } catch {
        // Not AMQP frames (e.g. a protocol header sent back): rawBytes keeps them for the test.
      }
    });
    socket.on('error', () => undefined);
    this.closed = new Promise((resolve) =>
      socket.on('close', () => {
        this.ended = true;
        this.wake();
        resolve();
      }),
    );
  }

  static connect(port: number, tls?: { ca: Buffer | string; servername: string }): Promise<RawAmqpClient> {
    return new Promise((resolve, reject) => {
      const socket =
        tls === undefined
          ? connectTcp({ port, host: '127.0.0.1' })
          : connectTls({ port, host: '127.0.0.1', ca: tls.ca, servername: tls.servername });
      const ready = tls === undefined ? 'connect' : 'secureConnect';
      socket.once(ready, () => resolve(new RawAmqpClient(socket)));
      socket.once('error', reject);
    });
  }

  write(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  sendHeader(): void {
    this.write(PROTOCOL_HEADER);
  }

  sendMethod(channel: number, method: Method): void {
    this.writer.writeMethod(channel, method);
    this.write(this.writer.take());
  }

  /** A content-carrying method with its header and body frames, split as the writer splits them. */
  sendContent(channel: number, method: Method, body: Buffer, frameMax: number): void {
    this.writer.writeContent(channel, method, {}, undefined, body, frameMax);
    this.write(this.writer.take());
  }

  sendHeartbeat(): void {
    this.writer.writeHeartbeat();
    this.write(this.writer.take());
  }

  /** The next frame, heartbeats included. Rejects on timeout or when the socket closes first. */
  async nextFrame(timeoutMs = 3000): Promise<Frame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const frame = this.frames.shift();
      if (frame !== undefined) return frame;
      if (this.ended) throw new Error('socket closed while waiting for a frame');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no frame within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /** The next method frame (heartbeats skipped); fails if it is not `id`. */
  async expectMethod<K extends MethodId>(id: K, timeoutMs = 3000): Promise<{ channel: number; args: MethodArgs[K] }> {
    const method = await this.nextMethod(timeoutMs);
    if (method.method.id !== id) {
      throw new Error(`expected method ${id.toString(16)}, got ${method.method.id.toString(16)} ${JSON.stringify(method.method.args)}`);
    }
    return { channel: method.channel, args: method.method.args as MethodArgs[K] };
  }

  async nextMethod(timeoutMs = 3000): Promise<{ channel: number; method: Method }> {
    for (;;) {
      const frame = await this.nextFrame(timeoutMs);
      if (frame.type === 1) return { channel: frame.channel, method: frame.method };
    }
  }

  /** Runs the handshake up to connection.open-ok; returns the server's tune. */
  async handshake(options: RawHandshakeOptions = {}): Promise<MethodArgs[MethodId.ConnectionTune]> {
    this.sendHeader();
    await this.expectMethod(MethodId.ConnectionStart);
    this.sendStartOk(options);
    const { args: tune } = await this.expectMethod(MethodId.ConnectionTune);
    this.sendMethod(0, {
      id: MethodId.ConnectionTuneOk,
      args: {
        channelMax: options.channelMax ?? tune.channelMax,
        frameMax: options.frameMax ?? tune.frameMax,
        heartbeat: options.heartbeat ?? 0,
      },
    });
    this.sendMethod(0, { id: MethodId.ConnectionOpen, args: { virtualHost: options.vhost ?? '/', reserved1: '', reserved2: false } });
    await this.expectMethod(MethodId.ConnectionOpenOk);
    return tune;
  }

  sendStartOk(options: RawHandshakeOptions = {}): void {
    const response = Buffer.from(`\0${options.user ?? 'guest'}\0${options.password ?? 'guest'}`);
    this.sendMethod(0, {
      id: MethodId.ConnectionStartOk,
      args: {
        clientProperties: { product: 'raw-test', capabilities: options.capabilities ?? AMQPLIB_LIKE_CAPABILITIES },
        mechanism: 'PLAIN',
        response,
        locale: 'en_US',
      },
    });
  }

  async openChannel(channel: number): Promise<void> {
    this.sendMethod(channel, { id: MethodId.ChannelOpen, args: { reserved1: '' } });
    await this.expectMethod(MethodId.ChannelOpenOk);
  }

  /** Resolves true if the server closed the socket within the time. */
  async closedWithin(ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
    const result = await Promise.race([this.closed.then(() => true as const), timeout]);
    clearTimeout(timer);
    return result;
  }

  destroy(): void {
    this.socket.destroy();
  }

  private onFrame(frame: Frame): void {
    this.frames.push(frame);
    this.wake();
  }

  private wake(): void {
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.();
  }
}
