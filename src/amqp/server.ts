import { createServer as createTcpServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { pino, type Logger } from 'pino';
import type { Broker } from '../broker/broker.js';
import type { UserRegistry } from '../auth/users.js';
import { AmqpConnection, type ChannelFactory, type ConnectionContext, type ConnectionSettings } from './connection.js';
import { createChannel } from './default-channel.js';
import type { ConnectionView, ListenAddress, Listener } from '../session/views.js';
import { resolveLimits, type AmqpLimits } from './limits.js';
import { DEFAULT_PUBLISHER_FLOW, type PublisherFlowSettings } from '../session/publisher-flow.js';

export type { AmqpLimits } from './limits.js';

export interface AmqpListenerOptions {
  host?: string;
  /** 0 = ephemeral */
  port: number;
  /** amqps: listen with node:tls. */
  tls?: { cert: Buffer | string; key: Buffer | string; ca?: Buffer | string };
  limits?: Partial<AmqpLimits>;
  timeouts?: Partial<ListenerTimeouts>;
  /** Socket bytes queued above which channels stop delivering (default 1 MiB). */
  highWaterMark?: number;
  /** How channels are made; tests substitute their own. Default: the channel layer's Channel. */
  channelFactory?: ChannelFactory;
  /** Publisher flow control tuning (default DEFAULT_PUBLISHER_FLOW, see publisher-flow.ts). */
  publisherFlow?: Partial<PublisherFlowSettings>;
  /**
   * Another protocol sharing this port (a cluster's node links): a connection whose first bytes are
   * `magic` is handed to `accept` instead (the bytes are put back for it to read).
   */
  sharedWith?: { readonly magic: Buffer; accept(socket: Socket): void };
}

export interface ListenerTimeouts {
  /** A client must complete the handshake (connection.open) within this (RabbitMQ: 10 s). */
  handshakeMs: number;
  /** Wait for connection.close-ok after an error close before dropping the socket. */
  closeMs: number;
  /** On close(): wait this long for clients to answer connection.close before destroying sockets. */
  shutdownMs: number;
}

const DEFAULT_TIMEOUTS: ListenerTimeouts = { handshakeMs: 10_000, closeMs: 3_000, shutdownMs: 1_000 };
const DEFAULT_HIGH_WATER_MARK = 1024 * 1024;

/**
 * The AMQP 0-9-1 front door: accepts TCP (or TLS) sockets and runs one AmqpConnection per socket.
 * Everything is per instance, so a test can run two listeners on two brokers in one process.
 */
export class AmqpListener implements Listener {
  private readonly server: Server;
  private readonly open = new Set<AmqpConnection>();
  private readonly all = new Set<AmqpConnection>();
  /** Every accepted socket, whatever it became (a connection, a shared-port link, one still being sniffed). */
  private readonly sockets = new Set<Socket>();
  private readonly context: ConnectionContext;
  private readonly shutdownMs: number;
  private alarm: string | undefined;
  private closing: Promise<void> | undefined;

  constructor(
    broker: Broker,
    users: UserRegistry,
    private readonly options: AmqpListenerOptions,
    logger: Logger = pino({ level: 'silent' }),
  ) {
    const timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
    this.shutdownMs = timeouts.shutdownMs;
    const settings: ConnectionSettings = {
      limits: resolveLimits(options.limits),
      handshakeTimeoutMs: timeouts.handshakeMs,
      closeTimeoutMs: timeouts.closeMs,
      highWaterMark: options.highWaterMark ?? DEFAULT_HIGH_WATER_MARK,
      publisherFlow: { ...DEFAULT_PUBLISHER_FLOW, ...options.publisherFlow },
    };
    this.context = {
      broker,
      users,
      logger,
      settings,
      channelFactory: options.channelFactory ?? createChannel,
      blockedReason: () => this.alarm,
      openConnectionCount: () => this.open.size,
      connectionOpened: (connection) => this.open.add(connection),
      connectionClosed: (connection) => {
        this.open.delete(connection);
        this.all.delete(connection);
      },
    };
    this.server = options.tls === undefined ? this.createTcpServer() : this.createTlsServer(options.tls, timeouts.handshakeMs);
  }

  /** Every live connection, handshaking ones included (for the management API). */
  connections(): Iterable<ConnectionView> {
    return this.all;
  }

  /** The same, as this door's own objects (tests). */
  get amqpConnections(): ReadonlySet<AmqpConnection> {
    return this.all;
  }

  /** 'amqp', or 'amqp/ssl' for TLS (RabbitMQ's listener names). */
  get protocol(): string {
    return this.options.tls === undefined ? 'amqp' : 'amqp/ssl';
  }

  get limits(): Readonly<AmqpLimits> {
    return this.context.settings.limits;
  }

  get isTls(): boolean {
    return this.options.tls !== undefined;
  }

  listen(): Promise<ListenAddress> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.server.once('error', onError);
      this.server.listen(this.options.port, this.options.host ?? '0.0.0.0', () => {
        this.server.off('error', onError);
        this.server.on('error', (err) => this.context.logger.error({ err }, 'AMQP listener error'));
        const address = this.server.address() as AddressInfo;
        this.context.logger.info({ host: address.address, port: address.port, tls: this.isTls }, 'AMQP listener started');
        resolve({ host: address.address, port: address.port });
      });
    });
  }

  /**
   * Stops accepting, sends connection.close 320 to every client, waits briefly for their close-ok, then
   * destroys whatever is left. Idempotent.
   */
  close(reason = 'shutdown'): Promise<void> {
    this.closing ??= this.shutDown(reason);
    return this.closing;
  }

  /** A resource alarm was raised (reason) or cleared (undefined): block or unblock publishers. */
  setBlocked(reason: string | undefined): void {
    this.alarm = reason;
    for (const connection of this.open) connection.setAlarm(reason);
  }

  get blockedReason(): string | undefined {
    return this.alarm;
  }

  private async shutDown(reason: string): Promise<void> {
    const stopped = new Promise<void>((resolve) => this.server.close(() => resolve()));
    const connections = [...this.all];
    const closed = Promise.all(connections.map((connection) => connection.forceClose(reason)));
    await raceTimeout(closed, this.shutdownMs);
    for (const connection of connections) connection.destroy();
    await Promise.all(connections.map((connection) => connection.closed));
    // server.close() waits for every socket it accepted, including those handed to the port's other protocol.
    for (const socket of this.sockets) socket.destroy();
    await stopped;
  }

  private createTcpServer(): Server {
    return createTcpServer((socket) => this.accept(socket, false));
  }

  private createTlsServer(tls: NonNullable<AmqpListenerOptions['tls']>, handshakeTimeout: number): Server {
    const server = createTlsServer({ ...tls, handshakeTimeout }, (socket) => this.accept(socket, true));
    server.on('tlsClientError', (err) => this.context.logger.debug({ err }, 'TLS handshake failed'));
    return server;
  }

  private accept(socket: Socket, tls: boolean): void {
    if (this.closing !== undefined) {
      socket.destroy();
      return;
    }
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    const shared = this.options.sharedWith;
    if (shared === undefined) this.all.add(new AmqpConnection(socket, this.context, tls));
    else this.sniff(socket, tls, shared);
  }

  /** Reads until the first bytes tell AMQP (its protocol header) from the protocol sharing the port. */
  private sniff(socket: Socket, tls: boolean, shared: NonNullable<AmqpListenerOptions['sharedWith']>): void {
    let seen = Buffer.alloc(0);
    const timer = setTimeout(() => socket.destroy(), this.context.settings.handshakeTimeoutMs);
    const onError = (): void => void socket.destroy();
    socket.on('error', onError);
    const decide = (chunk: Buffer): void => {
      seen = Buffer.concat([seen, chunk]);
      const prefix = seen.subarray(0, shared.magic.length);
      const couldBeShared = prefix.equals(shared.magic.subarray(0, prefix.length));
      if (couldBeShared && seen.length < shared.magic.length) return;
      clearTimeout(timer);
      socket.off('data', decide);
      socket.off('error', onError);
      socket.pause();
      socket.unshift(seen);
      if (couldBeShared) return shared.accept(socket);
      this.all.add(new AmqpConnection(socket, this.context, tls));
      socket.resume();
    };
    socket.on('data', decide);
    socket.once('close', () => clearTimeout(timer));
  }
}

function raceTimeout(promise: Promise<unknown>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    timer.unref();
    void promise.then(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
