/**
 * The MQTT front door's listener (TCP, or TLS for 8883), and the home of what its connections share:
 * the session registry and each vhost's retained store. WebSocket connections (websocket.ts) join the
 * same listener, so they share sessions and show in the same connection list.
 */
import { createServer as createTcpServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { pino, type Logger } from 'pino';
import type { UserRegistry } from '../auth/users.js';
import type { Broker } from '../broker/broker.js';
import type { VHost } from '../broker/vhost.js';
import type { ConnectionView, ListenAddress, Listener } from '../session/views.js';
import type { Will } from './codec/packets.js';
import { Reason } from './codec/reason-codes.js';
import { MqttConnection } from './connection.js';
import type { MqttContext, MqttSettings } from './context.js';
import { publishToMessage } from './message-mapping.js';
import { PublishEncodings } from './publish-encodings.js';
import { routeMessage } from './publishing.js';
import { Qos2StateStore } from './qos2-state.js';
import { RETAINED_QUEUE, RetainedStore } from './retained.js';
import { SessionRegistry, type MqttSession } from './session.js';
import { socketTransport, type MqttTransport } from './transport.js';

/**
 * Sessions and retained stores, shared by every listener of one broker (TCP, TLS and WebSocket
 * clients see the same sessions and retained messages). Retained stores close with the last listener.
 */
export class MqttDoorState {
  readonly sessions = new SessionRegistry();
  readonly encodings = new PublishEncodings();
  private readonly retained = new Map<string, RetainedStore>();
  private readonly qos2States = new Map<string, Qos2StateStore>();
  private listeners = 0;

  retainedFor(vhost: VHost): RetainedStore {
    let store = this.retained.get(vhost.name);
    if (store === undefined || vhost.getQueue(RETAINED_QUEUE)?.deleted !== false) {
      store = new RetainedStore(vhost);
      this.retained.set(vhost.name, store);
    }
    return store;
  }

  qos2StateFor(vhost: VHost): Qos2StateStore {
    let store = this.qos2States.get(vhost.name);
    if (store === undefined || store.deleted) {
      store = new Qos2StateStore(vhost);
      this.qos2States.set(vhost.name, store);
    }
    return store;
  }

  opened(): void {
    this.listeners++;
  }

  closed(): void {
    if (--this.listeners > 0) return;
    for (const session of this.sessions.all()) {
      clearTimeout(session.expiryTimer);
      clearTimeout(session.willTimer);
    }
    for (const store of this.retained.values()) store.close();
    this.retained.clear();
    for (const store of this.qos2States.values()) store.close();
    this.qos2States.clear();
  }
}

export interface MqttListenerOptions {
  /** Shared with the door's other listeners; default: its own. */
  state?: MqttDoorState;
  host?: string;
  /** 0 = ephemeral. */
  port: number;
  tls?: { cert: Buffer | string; key: Buffer | string; ca?: Buffer | string };
  settings?: Partial<MqttSettings>;
}

export const DEFAULT_MQTT_SETTINGS: MqttSettings = {
  allowAnonymous: true,
  defaultVhost: '/',
  maxPacketSize: 16 * 1024 * 1024,
  topicAliasMaximum: 64,
  receiveMaximum: 4096,
  deliveryWindow: 1024,
  connectTimeoutMs: 10_000,
  highWaterMark: 1024 * 1024,
};

export class MqttListener implements Listener {
  private readonly server: Server;
  private readonly open = new Set<MqttConnection>();
  private readonly context: MqttContext;
  private alarm: string | undefined;
  private closing: Promise<void> | undefined;
  readonly state: MqttDoorState;

  constructor(
    private readonly broker: Broker,
    users: UserRegistry,
    private readonly options: MqttListenerOptions,
    logger: Logger = pino({ level: 'silent' }),
  ) {
    const settings = { ...DEFAULT_MQTT_SETTINGS, ...options.settings };
    this.state = options.state ?? new MqttDoorState();
    this.state.opened();
    this.context = {
      broker,
      users,
      logger,
      settings,
      sessions: this.state.sessions,
      encodings: this.state.encodings,
      retainedFor: (vhost) => this.state.retainedFor(vhost),
      qos2StateFor: (vhost) => this.state.qos2StateFor(vhost),
      blockedReason: () => this.alarm,
      connectionClosed: (connection) => this.open.delete(connection),
      publishWill: (connection, session, will) => this.publishWill(connection, session, will),
    };
    const onSocket = (socket: Socket): void => this.accept(socketTransport(socket));
    this.server = options.tls === undefined ? createTcpServer(onSocket) : createTlsServer(options.tls, onSocket);
  }

  /** Where it listens, once listening. */
  get address(): ListenAddress | undefined {
    const address = this.server.address() as AddressInfo | null;
    return address === null ? undefined : { host: address.address, port: address.port };
  }

  get protocol(): string {
    return this.options.tls === undefined ? 'mqtt' : 'mqtt/ssl';
  }

  /** A new client on any transport (TCP, TLS, WebSocket). */
  accept(transport: MqttTransport): void {
    if (this.closing !== undefined) return transport.destroy();
    this.open.add(new MqttConnection(this.context, transport));
  }

  connections(): Iterable<ConnectionView> {
    return this.open;
  }

  get sessions(): SessionRegistry {
    return this.state.sessions;
  }

  listen(): Promise<ListenAddress> {
    // Every vhost's retained store opens now, so what was stored comes back before clients subscribe.
    for (const vhost of this.broker.vhosts.values()) {
      try {
        this.state.retainedFor(vhost);
        this.state.qos2StateFor(vhost);
      } catch (error) {
        // E.g. another cluster node holds the retained queue: retained publishes there fail, the door runs.
        this.context.logger.warn({ err: error, vhost: vhost.name }, 'MQTT retained messages unavailable');
      }
    }
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port, this.options.host ?? '0.0.0.0', () => {
        this.server.off('error', reject);
        this.server.on('error', (err) => this.context.logger.error({ err }, 'MQTT listener error'));
        const address = this.server.address() as AddressInfo;
        resolve({ host: address.address, port: address.port });
      });
    });
  }

  setBlocked(reason: string | undefined): void {
    this.alarm = reason;
    for (const connection of this.open) connection.alarmChanged(reason);
  }

  close(reason = 'shutdown'): Promise<void> {
    this.closing ??= this.shutDown(reason);
    return this.closing;
  }

  private async shutDown(reason: string): Promise<void> {
    // net.Server.close calls back only once every connection has ended: ask them to end first.
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const connection of this.open) connection.close(Reason.ServerShuttingDown, reason);
    const deadline = Date.now() + 1000;
    while (this.open.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    for (const connection of this.open) connection.transport.destroy();
    await closed;
    this.state.closed();
  }

  private publishWill(connection: MqttConnection, session: MqttSession, will: Will): void {
    const vhost = session.vhost;
    try {
      const message = publishToMessage({ type: 'publish', dup: false, qos: will.qos, retain: will.retain, topic: will.topic, packetId: undefined, payload: will.payload, properties: will.properties }, will.topic);
      routeMessage(vhost, connection.access, message, will.retain ? this.state.retainedFor(vhost) : undefined, []);
    } catch (error) {
      this.context.logger.warn({ err: error, clientId: session.clientId }, 'MQTT will not published');
    }
  }
}
