import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { User, UserRegistry } from '../auth/users.js';
import type { Broker } from '../broker/broker.js';
import type { SessionOwner } from '../broker/front-door.js';
import type { ChannelInfo, ConnectionInfo, ConnectionView } from '../session/views.js';
import type { AmqpError } from './errors.js';
import type { FieldTable } from '../broker/message.js';
import type { VHost } from '../broker/vhost.js';
import type { ChannelHost } from './channel/host.js';
import { ChannelTable } from './channel-table.js';
import type { FrameWriter } from './codec/encode.js';
import { FrameParser, type Frame } from './codec/frames.js';
import { FrameRouter } from './frame-router.js';
import { ConnectionCloser } from './connection-close.js';
import { ConnectionHandshake } from './connection-handshake.js';
import { describeConnection } from './connection-info.js';
import {
  ConnectionState,
  type ChannelLike,
  type ConnectionContext,
  type ConnectionSettings,
} from './connection-types.js';
import { FRAME_MIN_SIZE, NO_CAPABILITIES, type ClientCapabilities } from './handshake.js';
import { HeartbeatMonitor } from './heartbeat.js';
import { SocketOutput } from './output.js';
import { PublisherFlow, type FlowQueue } from '../session/publisher-flow.js';
import { SocketInput } from './socket-input.js';
import { MethodId } from './spec/generated.js';

export {
  ConnectionState,
  type ChannelFactory,
  type ChannelLike,
  type ConnectionContext,
  type ConnectionSettings,
} from './connection-types.js';

/**
 * One AMQP 0-9-1 client connection. It builds and wires its parts: socket input (socket-input.ts) and
 * output (output.ts), frame routing and error handling (frame-router.ts), the opening handshake
 * (connection-handshake.ts), the channel table (channel-table.ts), the close handshake and timeouts
 * (connection-close.ts), the management snapshot (connection-info.ts); it keeps heartbeats and publisher
 * flow itself. Implements ChannelHost for its channels.
 */
export class AmqpConnection implements ChannelHost, ConnectionView {
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
  /** The SASL mechanism the client logged in with. */
  authMechanism = 'PLAIN';
  /** Set by connection.open; channels exist only after it. */
  vhost!: VHost;
  /** Set by a successful login. */
  user!: User;

  private readonly channelTable: ChannelTable;
  private readonly parser: FrameParser;
  private readonly input: SocketInput;
  private readonly output: SocketOutput;
  private readonly closer: ConnectionCloser;
  private readonly handshake: ConnectionHandshake;
  private readonly router: FrameRouter;
  private readonly log: Logger;
  private readonly settings: ConnectionSettings;
  /** Created at connection.open, once the client's capabilities are known. */
  private flow: PublisherFlow | undefined;
  private heartbeat: HeartbeatMonitor | undefined;
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
    this.channelTable = new ChannelTable(
      {
        writer: this.writer,
        scheduleFlush: () => this.scheduleFlush(),
        createChannel: (id) => context.channelFactory(id, this),
        beforePublish: () => {
          if (this.flow?.blocking === true) this.flow.block();
        },
      },
      this.log,
    );
    this.closer = new ConnectionCloser(this, socket, this.channelTable, this.log, this.settings.closeTimeoutMs);
    // Spec 4.2.3: until tune-ok both peers accept frames of at most frame-min-size.
    this.parser = new FrameParser(this, { frameMax: FRAME_MIN_SIZE, expectProtocolHeader: false });
    this.handshake = new ConnectionHandshake(this, context, this.parser, this.closer, this.log, {
      heartbeatAgreed: (seconds) => this.startHeartbeat(seconds),
      opened: () => this.onOpened(),
    });
    this.router = new FrameRouter(this, this.handshake, this.channelTable, this.closer, this.log);
    this.input = new SocketInput(this.parser, {
      currentState: () => this.state,
      acceptProtocolHeader: (header) => this.handshake.acceptProtocolHeader(header),
      closeWithError: (err) => this.closeWithError(err, 0, 0),
      internalError: (err, what) => this.router.internalError(err, what),
      endSocket: () => this.closer.endSocket(),
    });
    this.attachSocket();
    this.closer.startHandshakeTimer(this.settings.handshakeTimeoutMs);
  }

  /** Resolves once the socket is closed and every channel torn down. */
  get closed(): Promise<void> {
    return this.closedPromise;
  }

  get owner(): SessionOwner {
    return this;
  }

  /** ChannelHost: this connection, as channels name it to the management API. */
  get connection(): AmqpConnection {
    return this;
  }

  get channelCount(): number {
    return this.channelTable.size;
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
    this.router.onChannelError(channelId, error, 0, 0);
  }

  publishedTo(queues: readonly FlowQueue[]): void {
    if (this.flow !== undefined) this.flow.publishedTo(queues);
  }

  // ---- socket --------------------------------------------------------------------------------------

  private attachSocket(): void {
    const socket = this.socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.bytesIn += chunk.length;
      // Fairness: a connection that has had its share of this event-loop turn yields to the others.
      if (this.flow !== undefined) this.flow.countInput(chunk.length);
      this.input.push(chunk);
    });
    socket.on('error', (err) => this.log.debug({ err }, 'socket error'));
    socket.on('close', () => this.cleanUp());
  }

  /** Writes everything appended so far, now (handshake, heartbeats, closes). */
  flush(): void {
    this.output.flush();
  }

  /** The socket has room again: consumers may deliver more. */
  private resumeChannels(): void {
    if (this.state !== ConnectionState.Open) return;
    this.channelTable.resumeAll((id, err) => this.router.onChannelError(id, err, 0, 0));
  }

  /** FrameParser handler: every complete frame, in order. */
  onFrame(frame: Frame): void {
    this.router.onFrame(frame);
  }

  // ---- handshake and closing -----------------------------------------------------------------------

  /** The handshake's last step: the connection's other parts start, then open-ok goes out. */
  private onOpened(): void {
    this.flow = this.createPublisherFlow();
    this.state = ConnectionState.Open;
    this.closer.clearHandshakeTimer();
    this.context.connectionOpened(this);
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

  // ---- errors and closing --------------------------------------------------------------------------

  /** connection.close with the error, then wait for close-ok (spec 2.2.4). */
  closeWithError(err: AmqpError, classId: number, methodId: number): void {
    this.closer.closeWithError(err, classId, methodId);
  }

  /** Server shutdown: connection.close 320 (RabbitMQ's wording). */
  forceClose(reason: string): Promise<void> {
    this.closer.forceClose(reason);
    return this.closedPromise;
  }

  destroy(): void {
    this.socket.destroy();
  }

  private cleanUp(): void {
    if (this.cleanedUp) return;
    this.cleanedUp = true;
    const wasOpen = this.state >= ConnectionState.Open && this.vhost !== undefined;
    this.state = ConnectionState.Closed;
    this.closer.stopTimers();
    this.heartbeat?.stop();
    this.flow?.stop();
    this.channelTable.teardownAll();
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

  // ---- publisher flow and resource alarms ----------------------------------------------------------

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
    return this.channelTable.openChannels();
  }

  channels(): ChannelInfo[] {
    const rows: ChannelInfo[] = [];
    for (const [number, channel] of this.channelTable.openChannels()) if (channel.describe) rows.push(channel.describe(number));
    return rows;
  }

  info(): ConnectionInfo {
    return describeConnection(this, this.tls, this.flow?.stateName);
  }
}
