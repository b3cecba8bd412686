import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { User, UserRegistry } from '../auth/users.js';
import type { Broker } from '../broker/broker.js';
import type { SessionOwner } from '../broker/consumer.js';
import { ChannelError, ConnectionError, ConnectionReplyCode, type WarrenError } from '../broker/errors.js';
import type { FieldTable } from '../broker/message.js';
import type { VHost } from '../broker/vhost.js';
import type { ChannelHost } from './channel/host.js';
import type { FrameWriter } from './codec/encode.js';
import { FrameDecodeError } from './codec/errors.js';
import { FrameParser, type Frame } from './codec/frames.js';
import {
  ConnectionState,
  STATE_NAMES,
  type ChannelLike,
  type ConnectionContext,
  type ConnectionInfo,
  type ConnectionSettings,
} from './connection-types.js';
import {
  FRAME_MIN_SIZE,
  NO_CAPABILITIES,
  PROTOCOL_HEADER,
  clientCapabilities,
  isProtocolHeader,
  loginRefusedText,
  negotiateTune,
  type ClientCapabilities,
  type TuneOffer,
} from './handshake.js';
import { HeartbeatMonitor } from './heartbeat.js';
import { SocketOutput } from './output.js';
import { PublisherFlow, type FlowQueue } from './publisher-flow.js';
import { isSupportedMechanism, parseSaslResponse } from './sasl.js';
import { LOCALES, SASL_MECHANISMS, serverProperties } from './server-properties.js';
import { MethodId } from './spec/generated.js';

export {
  ConnectionState,
  type ChannelFactory,
  type ChannelLike,
  type ConnectionContext,
  type ConnectionInfo,
  type ConnectionSettings,
} from './connection-types.js';

interface ChannelSlot {
  readonly channel: ChannelLike;
  /** We sent channel.close and wait for close-ok; every other frame is ignored (spec 2.3.5.2). */
  closing: boolean;
}

const HEADER_LENGTH = 8;
const EMPTY = Buffer.alloc(0);
/** Malformed frames in one chunk tolerated while closing before input is dropped altogether. */
const MAX_PARSE_RETRIES = 64;
/** basic.publish: errors in its content frames are reported against it, as RabbitMQ does. */
const BASIC_PUBLISH_CLASS = 60;
const BASIC_PUBLISH_METHOD = 40;

/**
 * One AMQP 0-9-1 client connection: the handshake, channel 0, the channel table, heartbeats, output
 * batching and back-pressure. Implements ChannelHost for its channels.
 */
export class AmqpConnection implements ChannelHost, SessionOwner {
  readonly name: string;
  readonly peerHost: string;
  readonly peerPort: number;
  readonly connectedAt = Date.now();
  readonly broker: Broker;
  readonly users: UserRegistry;
  readonly writer: FrameWriter;
  readonly maxMessageBytes: number;

  state: ConnectionState = ConnectionState.AwaitingHeader;
  bytesIn = 0;
  frameMax = FRAME_MIN_SIZE;
  channelMax: number;
  heartbeatSeconds = 0;
  clientProperties: FieldTable = {};
  clientCapabilities: ClientCapabilities = { ...NO_CAPABILITIES };
  /** Set by connection.open; channels exist only after it. */
  vhost!: VHost;
  /** Set by a successful login. */
  user!: User;

  private readonly channels = new Map<number, ChannelSlot>();
  private readonly parser: FrameParser;
  private readonly log: Logger;
  private readonly settings: ConnectionSettings;
  private header: Buffer | undefined;
  private inputBroken = false;
  private readonly output: SocketOutput;
  /** Created at connection.open, once the client's capabilities are known. */
  private flow: PublisherFlow | undefined;
  private heartbeat: HeartbeatMonitor | undefined;
  private handshakeTimer: NodeJS.Timeout | undefined;
  private closeTimer: NodeJS.Timeout | undefined;
  private cleanedUp = false;
  private readonly closedPromise: Promise<void>;
  private resolveClosed!: () => void;

  constructor(
    private readonly socket: Socket,
    private readonly context: ConnectionContext,
    private readonly tls = false,
  ) {
    this.broker = context.broker;
    this.users = context.users;
    this.settings = context.settings;
    this.maxMessageBytes = context.settings.limits.maxMessageBytes;
    this.channelMax = context.settings.limits.channelMax;
    this.peerHost = socket.remoteAddress ?? 'unknown';
    this.peerPort = socket.remotePort ?? 0;
    this.name = `${this.peerHost}:${this.peerPort} -> ${socket.localAddress ?? '?'}:${socket.localPort ?? 0}`;
    this.log = context.logger.child({ connection: this.name });
    this.closedPromise = new Promise((resolve) => (this.resolveClosed = resolve));
    this.output = new SocketOutput(socket, this.settings.highWaterMark, () => this.resumeChannels());
    this.writer = this.output.writer;
    // Spec 4.2.3: until tune-ok both peers accept frames of at most frame-min-size.
    this.parser = new FrameParser(this, { frameMax: FRAME_MIN_SIZE, expectProtocolHeader: false });
    this.attachSocket();
    this.handshakeTimer = setTimeout(() => this.onHandshakeTimeout(), this.settings.handshakeTimeoutMs);
    this.handshakeTimer.unref();
  }

  /** Resolves once the socket is closed and every channel torn down. */
  get closed(): Promise<void> {
    return this.closedPromise;
  }

  get owner(): SessionOwner {
    return this;
  }

  get channelCount(): number {
    return this.channels.size;
  }

  get bytesOut(): number {
    return this.output.bytesOut;
  }

  // ---- ChannelHost ---------------------------------------------------------------------------------

  scheduleFlush(): void {
    this.output.scheduleFlush();
  }

  writable(): boolean {
    return this.output.writable();
  }

  reportAsyncError(channelId: number, error: unknown): void {
    this.onChannelError(channelId, error, 0, 0);
  }

  publishedTo(queues: readonly FlowQueue[]): void {
    if (this.flow !== undefined) this.flow.publishedTo(queues);
  }

  // ---- socket input --------------------------------------------------------------------------------

  private attachSocket(): void {
    const socket = this.socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.log.debug({ err }, 'socket error'));
    socket.on('close', () => this.cleanUp());
  }

  private onData(chunk: Buffer): void {
    this.bytesIn += chunk.length;
    // Fairness: a connection that has had its share of this event-loop turn yields to the others.
    if (this.flow !== undefined) this.flow.countInput(chunk.length);
    if (this.state === ConnectionState.AwaitingHeader) {
      const rest = this.takeProtocolHeader(chunk);
      if (rest === undefined || rest.length === 0) return;
      chunk = rest;
    }
    if (this.inputBroken || this.state === ConnectionState.Closed) return;
    this.feedParser(chunk);
  }

  /**
   * After a non-fatal decode error the parser keeps the rest of the chunk; pushing again parses it, so
   * a close-ok that came in the same chunk is not left waiting for more input.
   */
  private feedParser(chunk: Buffer): void {
    for (let attempt = 0; attempt < MAX_PARSE_RETRIES; attempt++) {
      try {
        this.parser.push(chunk);
        return;
      } catch (err) {
        this.onParseError(err);
        if (this.inputBroken || this.state === ConnectionState.Closed) return;
        chunk = EMPTY;
      }
    }
    this.inputBroken = true;
  }

  /** Spec 4.2.2: the client starts with the 8-byte protocol header; returns the bytes after it. */
  private takeProtocolHeader(chunk: Buffer): Buffer | undefined {
    const have = this.header === undefined ? chunk : Buffer.concat([this.header, chunk]);
    if (have.length < HEADER_LENGTH) {
      this.header = have;
      return undefined;
    }
    this.header = undefined;
    if (!isProtocolHeader(have)) {
      this.log.info({ header: have.subarray(0, HEADER_LENGTH).toString('latin1') }, 'unsupported protocol header');
      this.state = ConnectionState.Closed;
      this.socket.end(PROTOCOL_HEADER);
      this.destroyLater();
      return undefined;
    }
    this.state = ConnectionState.AwaitingStartOk;
    this.sendStart();
    return have.subarray(HEADER_LENGTH);
  }

  private onParseError(err: unknown): void {
    if (err instanceof FrameDecodeError) {
      this.closeWithError(err, 0, 0);
      if (err.fatal) this.stopReading();
      return;
    }
    this.internalError(err, 'frame parser failed');
    this.stopReading();
  }

  /**
   * Framing is lost, so a close-ok could never be recognised: after the connection.close, half-close
   * our side at once and let the peer finish.
   */
  private stopReading(): void {
    this.inputBroken = true;
    if (this.state !== ConnectionState.Closed) this.endSocket();
  }

  /** FrameParser handler: every complete frame, in order. */
  onFrame(frame: Frame): void {
    if (this.state >= ConnectionState.Closing) {
      this.onFrameWhileClosing(frame);
      return;
    }
    try {
      if (frame.channel === 0) this.onChannelZeroFrame(frame);
      else this.onChannelFrame(frame);
    } catch (err) {
      const [classId, methodId] = failedMethod(frame);
      if (frame.channel !== 0 && !(err instanceof ConnectionError)) this.onChannelError(frame.channel, err, classId, methodId);
      else this.onConnectionError(err, classId, methodId);
    }
  }

  // ---- channel 0: handshake and connection methods -------------------------------------------------

  private onChannelZeroFrame(frame: Frame): void {
    if (frame.type === 8) return; // heartbeat: arriving bytes already reset the monitor
    if (frame.type !== 1) {
      throw new ConnectionError(ConnectionReplyCode.UnexpectedFrame, `unexpected content frame (type ${frame.type}) on channel 0`);
    }
    const method = frame.method;
    switch (method.id) {
      case MethodId.ConnectionStartOk:
        this.expectState(ConnectionState.AwaitingStartOk);
        this.onStartOk(method.args.clientProperties, method.args.mechanism, method.args.response);
        return;
      case MethodId.ConnectionTuneOk:
        this.expectState(ConnectionState.AwaitingTuneOk);
        this.onTuneOk(method.args);
        return;
      case MethodId.ConnectionOpen:
        this.expectState(ConnectionState.AwaitingOpen);
        this.onOpen(method.args.virtualHost);
        return;
      case MethodId.ConnectionClose:
        this.onClientClose(method.args.replyCode, method.args.replyText);
        return;
      case MethodId.ConnectionUpdateSecret:
        throw new ConnectionError(ConnectionReplyCode.NotImplemented, 'connection.update-secret is not supported');
      default:
        throw unexpectedMethod(this.state);
    }
  }

  private expectState(expected: ConnectionState): void {
    if (this.state !== expected) throw unexpectedMethod(this.state);
  }

  private sendStart(): void {
    this.writer.writeMethod(0, {
      id: MethodId.ConnectionStart,
      args: {
        versionMajor: 0,
        versionMinor: 9,
        serverProperties: serverProperties(),
        mechanisms: SASL_MECHANISMS,
        locales: LOCALES,
      },
    });
    this.scheduleFlush();
  }

  private onStartOk(clientProperties: FieldTable, mechanism: string, response: Buffer): void {
    this.clientProperties = clientProperties;
    this.clientCapabilities = clientCapabilities(clientProperties);
    if (!isSupportedMechanism(mechanism)) {
      throw new ConnectionError(ConnectionReplyCode.CommandInvalid, `unknown authentication mechanism '${mechanism}'`);
    }
    const credentials = parseSaslResponse(mechanism, response);
    if (credentials === undefined) {
      this.refuseLogin(mechanism, undefined, `response from client doesn't look like ${mechanism}`);
      return;
    }
    const outcome = this.users.authenticate(credentials.username, credentials.password, this.peerHost);
    if (!outcome.ok) {
      this.refuseLogin(mechanism, credentials.username, outcome.reason);
      return;
    }
    this.user = outcome.user;
    this.state = ConnectionState.AwaitingTuneOk;
    const offer = this.tuneOffer();
    this.writer.writeMethod(0, { id: MethodId.ConnectionTune, args: offer });
    this.scheduleFlush();
  }

  private tuneOffer(): TuneOffer {
    const limits = this.settings.limits;
    return { channelMax: limits.channelMax, frameMax: limits.frameMax, heartbeat: limits.heartbeatSeconds };
  }

  /**
   * RabbitMQ tells a client that declared authentication_failure_close why it is turned away (403
   * without details: those go to the log); any other client just sees the socket close.
   */
  private refuseLogin(mechanism: string, username: string | undefined, reason: string): void {
    this.log.warn({ user: username, mechanism, reason }, 'login refused');
    if (this.clientCapabilities.authenticationFailureClose) {
      this.closeWithError(new ConnectionError(ConnectionReplyCode.AccessRefused, loginRefusedText(mechanism)), 0, 0);
      return;
    }
    this.endSocket();
  }

  private onTuneOk(tuneOk: TuneOffer): void {
    const agreed = negotiateTune(this.tuneOffer(), tuneOk);
    this.channelMax = agreed.channelMax;
    this.frameMax = agreed.frameMax;
    this.parser.frameMax = agreed.frameMax;
    this.heartbeatSeconds = agreed.heartbeat;
    this.state = ConnectionState.AwaitingOpen;
    if (agreed.heartbeat > 0) this.startHeartbeat(agreed.heartbeat);
  }

  private startHeartbeat(seconds: number): void {
    this.heartbeat = new HeartbeatMonitor(seconds, this, {
      sendHeartbeat: () => {
        this.writer.writeHeartbeat();
        this.flush();
      },
      peerSilent: (silentMs) => {
        this.log.warn({ heartbeatSeconds: seconds, silentMs }, 'missed heartbeats from client, closing connection');
        this.socket.destroy();
      },
    });
    this.heartbeat.start();
  }

  private onOpen(vhostName: string): void {
    const vhost = this.broker.getVhost(vhostName);
    if (vhost === undefined) {
      throw new ConnectionError(ConnectionReplyCode.NotAllowed, `vhost ${vhostName} not found`);
    }
    if (!this.users.canAccessVhost(this.user, vhostName)) {
      throw new ConnectionError(
        ConnectionReplyCode.NotAllowed,
        `access to vhost '${vhostName}' refused for user '${this.user.name}'`,
      );
    }
    const limit = this.settings.limits.maxConnections;
    if (this.context.openConnectionCount() >= limit) {
      throw new ConnectionError(ConnectionReplyCode.NotAllowed, `connection refused: node connection limit (${limit}) is reached`);
    }
    this.vhost = vhost;
    this.flow = this.createPublisherFlow();
    this.state = ConnectionState.Open;
    this.clearHandshakeTimer();
    this.context.connectionOpened(this);
    this.writer.writeMethod(0, { id: MethodId.ConnectionOpenOk, args: { reserved1: '' } });
    this.scheduleFlush();
    this.log.info({ user: this.user.name, vhost: vhostName }, 'connection open');
    const alarm = this.context.blockedReason();
    if (alarm !== undefined) this.setAlarm(alarm);
  }

  /** The client closes: tear everything down, confirm, and let the client close the socket. */
  private onClientClose(replyCode: number, replyText: string): void {
    this.log.debug({ replyCode, replyText }, 'client closed connection');
    this.teardownChannels();
    this.writer.writeMethod(0, { id: MethodId.ConnectionCloseOk, args: {} });
    this.flush();
    this.endSocket();
  }

  private onHandshakeTimeout(): void {
    this.handshakeTimer = undefined;
    if (this.state >= ConnectionState.Open) return;
    this.log.warn({ state: STATE_NAMES[this.state] }, 'handshake timeout, closing connection');
    this.socket.destroy();
  }

  private clearHandshakeTimer(): void {
    if (this.handshakeTimer !== undefined) clearTimeout(this.handshakeTimer);
    this.handshakeTimer = undefined;
  }

  // ---- channels ------------------------------------------------------------------------------------

  private onChannelFrame(frame: Frame): void {
    if (this.state !== ConnectionState.Open) {
      throw new ConnectionError(ConnectionReplyCode.UnexpectedFrame, `frame on channel ${frame.channel} before connection.open`);
    }
    const slot = this.channels.get(frame.channel);
    if (slot === undefined) {
      this.openChannel(frame);
      return;
    }
    if (slot.closing) {
      this.onFrameForClosingChannel(frame);
      return;
    }
    if (frame.type === 1) {
      const id = frame.method.id;
      if (id === MethodId.BasicPublish) {
        if (this.flow?.blocking === true) this.flow.block();
      } else if (id === MethodId.ChannelClose) {
        this.onClientChannelClose(frame.channel, slot);
        return;
      } else if (id === MethodId.ChannelCloseOk) {
        return; // close-ok for a close we never sent: nothing to do
      } else if (id === MethodId.ChannelOpen) {
        throw new ConnectionError(ConnectionReplyCode.ChannelError, "second 'channel.open' seen");
      }
    }
    slot.channel.handleFrame(frame);
  }

  private openChannel(frame: Frame): void {
    const id = frame.channel;
    if (frame.type !== 1 || frame.method.id !== MethodId.ChannelOpen) {
      throw new ConnectionError(ConnectionReplyCode.ChannelError, `expected 'channel.open' on channel ${id}`);
    }
    if (id > this.channelMax) {
      throw new ConnectionError(
        ConnectionReplyCode.NotAllowed,
        `channel number ${id} is higher than the negotiated channel_max (${this.channelMax})`,
      );
    }
    const channel = this.context.channelFactory(id, this);
    this.channels.set(id, { channel, closing: false });
    this.writer.writeMethod(id, { id: MethodId.ChannelOpenOk, args: { reserved1: '' } });
    this.scheduleFlush();
  }

  private onClientChannelClose(id: number, slot: ChannelSlot): void {
    this.channels.delete(id);
    this.teardownChannel(slot.channel);
    this.writer.writeMethod(id, { id: MethodId.ChannelCloseOk, args: {} });
    this.scheduleFlush();
  }

  /** After our channel.close only close-ok (done) or a crossing close (answer it) matter. */
  private onFrameForClosingChannel(frame: Frame): void {
    if (frame.type !== 1) return;
    const id = frame.method.id;
    if (id === MethodId.ChannelCloseOk) {
      this.channels.delete(frame.channel);
    } else if (id === MethodId.ChannelClose) {
      this.channels.delete(frame.channel);
      this.writer.writeMethod(frame.channel, { id: MethodId.ChannelCloseOk, args: {} });
      this.scheduleFlush();
    }
  }

  /** A channel failed: a ChannelError closes just it, anything else escalates to the connection. */
  private onChannelError(channelId: number, err: unknown, classId: number, methodId: number): void {
    const slot = this.channels.get(channelId);
    if (!(err instanceof ChannelError) || slot === undefined) {
      this.onConnectionError(err, classId, methodId);
      return;
    }
    if (slot.closing || this.state !== ConnectionState.Open) return;
    this.log.debug({ channel: channelId, replyCode: err.replyCode, reason: err.message }, 'channel error');
    slot.closing = true;
    this.teardownChannel(slot.channel);
    this.writer.writeMethod(channelId, {
      id: MethodId.ChannelClose,
      args: { replyCode: err.replyCode, replyText: err.replyText, classId, methodId },
    });
    this.scheduleFlush();
  }

  private teardownChannel(channel: ChannelLike): void {
    try {
      channel.teardown();
    } catch (err) {
      this.log.error({ err }, 'channel teardown failed');
    }
  }

  private teardownChannels(): void {
    for (const slot of this.channels.values()) this.teardownChannel(slot.channel);
    this.channels.clear();
  }

  // ---- connection errors and closing ---------------------------------------------------------------

  private onConnectionError(err: unknown, classId: number, methodId: number): void {
    if (err instanceof ConnectionError) this.closeWithError(err, classId, methodId);
    else this.internalError(err, 'unexpected error while handling a frame');
  }

  /** Anything that is not a broker error is a bug: log it and close the connection with 541. */
  private internalError(err: unknown, what: string): void {
    this.log.error({ err }, what);
    this.closeWithError(new ConnectionError(ConnectionReplyCode.InternalError, 'internal error'), 0, 0);
  }

  /** connection.close with the error, then wait for close-ok (spec 2.2.4). */
  closeWithError(err: WarrenError, classId: number, methodId: number): void {
    if (this.state >= ConnectionState.Closing) return;
    if (this.state === ConnectionState.AwaitingHeader) {
      this.socket.destroy();
      return;
    }
    const level = err.replyCode === ConnectionReplyCode.ConnectionForced ? 'info' : 'warn';
    this.log[level]({ replyCode: err.replyCode, reason: err.message }, 'closing connection');
    this.state = ConnectionState.Closing;
    this.clearHandshakeTimer();
    this.teardownChannels();
    this.writer.writeMethod(0, {
      id: MethodId.ConnectionClose,
      args: { replyCode: err.replyCode, replyText: err.replyText, classId, methodId },
    });
    this.flush();
    this.destroyLater();
  }

  private onFrameWhileClosing(frame: Frame): void {
    if (this.state !== ConnectionState.Closing || frame.channel !== 0 || frame.type !== 1) return;
    const id = frame.method.id;
    if (id === MethodId.ConnectionCloseOk) {
      this.endSocket();
    } else if (id === MethodId.ConnectionClose) {
      // Both sides closed at once: answer and finish.
      this.writer.writeMethod(0, { id: MethodId.ConnectionCloseOk, args: {} });
      this.flush();
      this.endSocket();
    }
  }

  /** Server shutdown: connection.close 320 (RabbitMQ's wording). */
  forceClose(reason: string): Promise<void> {
    if (this.state <= ConnectionState.AwaitingHeader) this.socket.destroy();
    else {
      this.closeWithError(
        new ConnectionError(ConnectionReplyCode.ConnectionForced, `broker forced connection closure with reason '${reason}'`),
        0,
        0,
      );
    }
    return this.closedPromise;
  }

  destroy(): void {
    this.socket.destroy();
  }

  /** Half-close our side; the peer closes its side after reading what we sent. */
  private endSocket(): void {
    this.state = ConnectionState.Closed;
    this.clearHandshakeTimer();
    this.socket.end();
    this.destroyLater();
  }

  private destroyLater(): void {
    if (this.closeTimer !== undefined) return;
    this.closeTimer = setTimeout(() => this.socket.destroy(), this.settings.closeTimeoutMs);
    this.closeTimer.unref();
  }

  private cleanUp(): void {
    if (this.cleanedUp) return;
    this.cleanedUp = true;
    const wasOpen = this.state >= ConnectionState.Open && this.vhost !== undefined;
    this.state = ConnectionState.Closed;
    this.clearHandshakeTimer();
    if (this.closeTimer !== undefined) clearTimeout(this.closeTimer);
    this.heartbeat?.stop();
    this.flow?.stop();
    this.teardownChannels();
    if (wasOpen) this.releaseExclusiveResources();
    this.context.connectionClosed(this);
    this.resolveClosed();
  }

  private releaseExclusiveResources(): void {
    try {
      this.vhost.releaseOwner(this);
    } catch (err) {
      this.log.error({ err }, 'releasing exclusive queues failed');
    }
  }

  // ---- output --------------------------------------------------------------------------------------

  /** Writes everything appended so far, now (handshake, heartbeats, closes). */
  flush(): void {
    this.output.flush();
  }

  /** The socket has room again: consumers may deliver more. */
  private resumeChannels(): void {
    if (this.state !== ConnectionState.Open) return;
    for (const [id, slot] of this.channels) {
      if (slot.closing) continue;
      try {
        slot.channel.resume();
      } catch (err) {
        this.onChannelError(id, err, 0, 0);
      }
    }
  }

  // ---- resource alarms -----------------------------------------------------------------------------

  /** An alarm was raised (reason) or cleared (undefined); see PublisherFlow. */
  setAlarm(reason: string | undefined): void {
    this.flow?.setAlarm(reason);
  }

  private createPublisherFlow(): PublisherFlow {
    return new PublisherFlow(
      {
        pauseInput: () => {
          this.socket.pause();
          this.heartbeat?.pauseReceive(true);
        },
        resumeInput: () => {
          this.heartbeat?.pauseReceive(false);
          this.socket.resume();
        },
        notifyBlocked: (reason) => {
          this.writer.writeMethod(0, { id: MethodId.ConnectionBlocked, args: { reason } });
          this.scheduleFlush();
        },
        notifyUnblocked: () => {
          this.writer.writeMethod(0, { id: MethodId.ConnectionUnblocked, args: {} });
          this.scheduleFlush();
        },
      },
      this.clientCapabilities.connectionBlocked,
      this.settings.publisherFlow,
    );
  }

  /** Times credit flow held this connection's input (see PublisherFlow). */
  get creditHolds(): number {
    return this.flow?.creditHolds ?? 0;
  }

  get isBlocked(): boolean {
    return this.flow?.stateName === 'blocked';
  }

  // ---- management ----------------------------------------------------------------------------------

  /** Channels by number, those being closed left out (for the management API's channel list). */
  openChannels(): [number, ChannelLike][] {
    const open: [number, ChannelLike][] = [];
    for (const [id, slot] of this.channels) if (!slot.closing) open.push([id, slot.channel]);
    return open;
  }

  info(): ConnectionInfo {
    return {
      name: this.name,
      protocol: 'AMQP 0-9-1',
      peerHost: this.peerHost,
      peerPort: this.peerPort,
      user: this.state >= ConnectionState.AwaitingTuneOk ? this.user?.name : undefined,
      vhost: this.state >= ConnectionState.Open ? this.vhost?.name : undefined,
      state: this.state === ConnectionState.Open && this.flow !== undefined ? this.flow.stateName : STATE_NAMES[this.state],
      channels: this.channels.size,
      clientProperties: this.clientProperties,
      connectedAt: this.connectedAt,
      bytesIn: this.bytesIn,
      bytesOut: this.bytesOut,
      frameMax: this.frameMax,
      channelMax: this.channelMax,
      heartbeat: this.heartbeatSeconds,
      tls: this.tls,
    };
  }
}

/** Class and method ids reported in a close for the frame that failed (content counts as basic.publish). */
function failedMethod(frame: Frame): [number, number] {
  if (frame.type === 1) return [frame.method.id >>> 16, frame.method.id & 0xffff];
  if (frame.type === 2 || frame.type === 3) return [BASIC_PUBLISH_CLASS, BASIC_PUBLISH_METHOD];
  return [0, 0];
}

/** RabbitMQ's answer to a connection method out of sequence. */
function unexpectedMethod(state: ConnectionState): ConnectionError {
  return new ConnectionError(ConnectionReplyCode.ChannelError, `unexpected method in connection state ${STATE_NAMES[state]}`);
}
