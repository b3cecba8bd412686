/**
 * The Kafka door's listener (a `Listener` like every door's): accepts TCP connections and gives each
 * a KafkaConnection over the shared KafkaDoor. TLS (src/kafka/auth's part) passes a server of its own.
 */
import { createServer as createTcpServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import type { ConnectionView, ListenAddress, Listener } from '../session/views.js';
import { KafkaConnection } from './connection.js';
import type { KafkaDoor } from './door.js';

export interface KafkaListenerOptions {
  host: string;
  /** 0 = a free port. */
  port: number;
  /** Builds the server from the connection handler instead of plain TCP (a TLS listener). */
  createServer?: (onSocket: (socket: Socket) => void) => Server;
  /** Shown as /api/overview's protocol: 'kafka' (default) or e.g. 'kafka/ssl'. */
  protocol?: string;
}

export class KafkaListener implements Listener {
  private readonly server: Server;
  private readonly open = new Set<KafkaConnection>();
  private closing: Promise<void> | undefined;
  private bound: ListenAddress | undefined;

  constructor(
    readonly door: KafkaDoor,
    private readonly options: KafkaListenerOptions,
    private readonly logger: Logger,
  ) {
    const onSocket = (socket: Socket): void => this.accept(socket);
    this.server = options.createServer?.(onSocket) ?? createTcpServer(onSocket);
  }

  get protocol(): string {
    return this.options.protocol ?? 'kafka';
  }

  /** Where it listens, once listening. */
  get address(): ListenAddress | undefined {
    return this.bound;
  }

  private accept(socket: Socket): void {
    if (this.closing !== undefined) return void socket.destroy();
    const tls = this.options.createServer !== undefined;
    this.open.add(new KafkaConnection(this.door, socket, this.logger, tls, (connection) => this.open.delete(connection)));
  }

  listen(): Promise<ListenAddress> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port, this.options.host, () => {
        this.server.off('error', reject);
        this.server.on('error', (err) => this.logger.error({ err }, 'Kafka listener error'));
        const address = this.server.address() as AddressInfo;
        this.bound = { host: address.address, port: address.port };
        resolve(this.bound);
      });
    });
  }

  setBlocked(reason: string | undefined): void {
    this.door.blockedReason = reason;
  }

  connections(): Iterable<ConnectionView> {
    return this.open;
  }

  close(reason = 'shutdown'): Promise<void> {
    this.closing ??= (async () => {
      const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
      for (const connection of this.open) connection.close(reason);
      await closed;
    })();
    return this.closing;
  }
}
