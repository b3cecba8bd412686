import { createServer as createTcpServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { pino, type Logger } from 'pino';
import type { UserRegistry } from '../auth/users.js';
import type { Broker } from '../broker/broker.js';
import { DEFAULT_PUBLISHER_FLOW } from '../session/publisher-flow.js';
import type { ConnectionView, ListenAddress, Listener } from '../session/views.js';
import { DEFAULT_PARSER_LIMITS } from './codec/parser.js';
import { StompConnection, type StompContext, type StompSettings } from './connection.js';
import { SocketTransport, type StompTransport } from './transport.js';

export interface StompListenerOptions {
  host?: string;
  /** 0 = ephemeral. */
  port: number;
  /** STOMP over TLS (RabbitMQ: port 61614). */
  tls?: { cert: Buffer | string; key: Buffer | string; ca?: Buffer | string };
  settings?: Partial<StompSettings>;
  /** Socket bytes queued above which subscriptions stop delivering (default 1 MiB). */
  highWaterMark?: number;
}

const DEFAULT_SETTINGS: StompSettings = {
  parserLimits: DEFAULT_PARSER_LIMITS,
  minHeartbeatMs: 1000,
  connectTimeoutMs: 10_000,
  publisherFlow: DEFAULT_PUBLISHER_FLOW,
  maxConnections: 10_000,
};

/**
 * The STOMP front door (1.0, 1.1, 1.2): a TCP (or TLS) listener, and the entry for connections that
 * arrive over other transports (the WebSocket endpoint at /ws on the HTTP port).
 */
export class StompListener implements Listener {
  private readonly server: Server;
  private readonly all = new Set<StompConnection>();
  private readonly context: StompContext;
  private alarm: string | undefined;
  private closing: Promise<void> | undefined;
  private address: ListenAddress | undefined;

  constructor(
    broker: Broker,
    users: UserRegistry,
    private readonly options: StompListenerOptions,
    logger: Logger = pino({ level: 'silent' }),
  ) {
    const settings = { ...DEFAULT_SETTINGS, ...options.settings };
    this.context = {
      broker,
      users,
      logger,
      settings,
      blockedReason: () => this.alarm,
      openConnectionCount: () => this.all.size,
      connectionClosed: (connection) => this.all.delete(connection),
    };
    const accept = (socket: Socket, tls: boolean): void => this.accept(new SocketTransport(socket, tls, options.highWaterMark ?? 1024 * 1024));
    this.server =
      options.tls === undefined
        ? createTcpServer((socket) => accept(socket, false))
        : createTlsServer({ ...options.tls, handshakeTimeout: settings.connectTimeoutMs }, (socket) => accept(socket, true));
    this.server.on('tlsClientError', (err: Error) => logger.debug({ err }, 'STOMP TLS handshake failed'));
  }

  get protocol(): string {
    return this.options.tls === undefined ? 'stomp' : 'stomp/ssl';
  }

  listen(): Promise<ListenAddress> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port, this.options.host ?? '0.0.0.0', () => {
        this.server.off('error', reject);
        this.server.on('error', (err) => this.context.logger.error({ err }, 'STOMP listener error'));
        const info = this.server.address() as AddressInfo;
        this.address = { host: info.address, port: info.port };
        resolve(this.address);
      });
    });
  }

  /** A connection over any transport (TCP here, WebSocket from the HTTP server). */
  accept(transport: StompTransport, localName = this.localName()): void {
    if (this.closing !== undefined) {
      transport.destroy();
      return;
    }
    this.all.add(new StompConnection(transport, this.context, localName));
  }

  private localName(): string {
    return this.address === undefined ? 'stomp' : `${this.address.host}:${this.address.port}`;
  }

  connections(): Iterable<ConnectionView> {
    return this.all;
  }

  get stompConnections(): ReadonlySet<StompConnection> {
    return this.all;
  }

  setBlocked(reason: string | undefined): void {
    this.alarm = reason;
    for (const connection of this.all) connection.setAlarm(reason);
  }

  close(reason = 'shutdown'): Promise<void> {
    this.closing ??= this.shutDown(reason);
    return this.closing;
  }

  private async shutDown(reason: string): Promise<void> {
    const stopped = new Promise<void>((resolve) => this.server.close(() => resolve()));
    const connections = [...this.all];
    const closed = Promise.all(connections.map((c) => c.forceClose(reason)));
    await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
    for (const connection of connections) connection.destroy();
    await Promise.all(connections.map((c) => c.closed));
    await stopped;
  }
}
