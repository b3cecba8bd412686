import type { Logger } from 'pino';
import type { User, UserRegistry } from '../auth/users.js';
import type { Broker } from '../broker/broker.js';
import { ConnectionError, ConnectionReplyCode, type AmqpError } from './errors.js';
import type { FieldTable } from '../broker/message.js';
import type { VHost } from '../broker/vhost.js';
import type { FrameWriter } from './codec/encode.js';
import type { FrameParser } from './codec/frames.js';
import type { ConnectionCloser } from './connection-close.js';
import { ConnectionState, type ConnectionContext } from './connection-types.js';
import {
  clientCapabilities,
  isProtocolHeader,
  login,
  loginRefusedText,
  negotiateTune,
  tuneOffer,
  vhostToOpen,
  type ClientCapabilities,
  type TuneOffer,
} from './handshake.js';
import { LOCALES, SASL_MECHANISMS, serverProperties } from './server-properties.js';
import { MethodId } from './spec/generated.js';

/** The connection fields the handshake fills in, as the client and the server agree on them. */
export interface HandshakingConnection {
  state: ConnectionState;
  clientProperties: FieldTable;
  clientCapabilities: ClientCapabilities;
  user: User;
  authMechanism: string;
  vhost: VHost;
  channelMax: number;
  frameMax: number;
  heartbeatSeconds: number;
  readonly peerHost: string;
  readonly broker: Broker;
  readonly users: UserRegistry;
  readonly writer: FrameWriter;
  scheduleFlush(): void;
  closeWithError(err: AmqpError, classId: number, methodId: number): void;
  setAlarm(reason: string | undefined): void;
}

/** What the connection does at the two points of the handshake that concern its other parts. */
export interface HandshakeEvents {
  /** tune-ok agreed on a non-zero heartbeat interval. */
  heartbeatAgreed(seconds: number): void;
  /** connection.open passed its checks: the connection turns Open, then open-ok is sent. */
  opened(): void;
}

/**
 * Channel 0 up to connection.open (spec 2.2.4, 4.2.3): the protocol header, start / start-ok (login),
 * tune / tune-ok and open; and the login again of update-secret. The connection routes each method here
 * once it checked the state.
 */
export class ConnectionHandshake {
  constructor(
    private readonly connection: HandshakingConnection,
    private readonly context: ConnectionContext,
    private readonly parser: FrameParser,
    private readonly closer: ConnectionCloser,
    private readonly log: Logger,
    private readonly events: HandshakeEvents,
  ) {}

  /** The first 8 bytes: connection.start when they are AMQP 0-9-1, else our header and the close. */
  acceptProtocolHeader(header: Buffer): boolean {
    if (!isProtocolHeader(header)) {
      this.log.info({ header: header.subarray(0, 8).toString('latin1') }, 'unsupported protocol header');
      this.closer.refuseProtocol();
      return false;
    }
    this.connection.state = ConnectionState.AwaitingStartOk;
    this.sendStart();
    return true;
  }

  private sendStart(): void {
    this.connection.writer.writeMethod(0, {
      id: MethodId.ConnectionStart,
      args: {
        versionMajor: 0,
        versionMinor: 9,
        // RabbitMQ announces its cluster name; federation links record it to cut loops (x-received-from).
        serverProperties: serverProperties(clusterNameOf(this.context.broker)),
        mechanisms: SASL_MECHANISMS,
        locales: LOCALES,
      },
    });
    this.connection.scheduleFlush();
  }

  onStartOk(clientProperties: FieldTable, mechanism: string, response: Buffer): void {
    const connection = this.connection;
    connection.clientProperties = clientProperties;
    connection.clientCapabilities = clientCapabilities(clientProperties);
    const outcome = login(connection.users, mechanism, response, connection.peerHost);
    if (!outcome.ok) {
      this.refuseLogin(mechanism, outcome.username, outcome.reason);
      return;
    }
    connection.user = outcome.user;
    connection.authMechanism = mechanism;
    connection.state = ConnectionState.AwaitingTuneOk;
    connection.writer.writeMethod(0, { id: MethodId.ConnectionTune, args: tuneOffer(this.context.settings.limits) });
    connection.scheduleFlush();
  }

  /**
   * RabbitMQ tells a client that declared authentication_failure_close why it is turned away (403
   * without details: those go to the log); any other client just sees the socket close.
   */
  private refuseLogin(mechanism: string, username: string | undefined, reason: string): void {
    this.log.warn({ user: username, mechanism, reason }, 'login refused');
    if (this.connection.clientCapabilities.authenticationFailureClose) {
      const refused = new ConnectionError(ConnectionReplyCode.AccessRefused, loginRefusedText(mechanism));
      this.connection.closeWithError(refused, 0, 0);
      return;
    }
    this.closer.endSocket();
  }

  onTuneOk(tuneOk: TuneOffer): void {
    const connection = this.connection;
    const agreed = negotiateTune(tuneOffer(this.context.settings.limits), tuneOk);
    connection.channelMax = agreed.channelMax;
    connection.frameMax = agreed.frameMax;
    this.parser.frameMax = agreed.frameMax;
    connection.heartbeatSeconds = agreed.heartbeat;
    connection.state = ConnectionState.AwaitingOpen;
    if (agreed.heartbeat > 0) this.events.heartbeatAgreed(agreed.heartbeat);
  }

  onOpen(vhostName: string): void {
    const connection = this.connection;
    connection.vhost = vhostToOpen({
      broker: connection.broker,
      users: connection.users,
      user: connection.user,
      vhostName,
      openConnections: this.context.openConnectionCount(),
      maxConnections: this.context.settings.limits.maxConnections,
    });
    this.events.opened();
    connection.writer.writeMethod(0, { id: MethodId.ConnectionOpenOk, args: { reserved1: '' } });
    connection.scheduleFlush();
    this.log.info({ user: connection.user.name, vhost: vhostName }, 'connection open');
    const alarm = this.context.blockedReason();
    if (alarm !== undefined) connection.setAlarm(alarm);
  }

  /**
   * connection.update-secret (RabbitMQ 3.8+, e.g. a refreshed token) on an open connection: its user
   * logs in again with the new secret, which for PLAIN and AMQPLAIN is the password. A refused secret is
   * RabbitMQ's 530 NOT_ALLOWED "New secret was refused by one of the backends" (rabbit_reader's
   * update_secret clause); why it was refused goes only to the log, as at login.
   */
  onUpdateSecret(newSecret: Buffer, reason: string): void {
    const connection = this.connection;
    const username = connection.user.name;
    const outcome = connection.users.authenticate(username, newSecret.toString('utf8'), connection.peerHost);
    if (!outcome.ok) {
      this.log.warn({ user: username, reason: outcome.reason }, 'secret update refused');
      throw new ConnectionError(ConnectionReplyCode.NotAllowed, 'New secret was refused by one of the backends');
    }
    connection.user = outcome.user;
    connection.writer.writeMethod(0, { id: MethodId.ConnectionUpdateSecretOk, args: {} });
    connection.scheduleFlush();
    this.log.info({ user: username, reason }, 'user updated secret');
  }
}

/** The global parameter `cluster_name` (RabbitMQ's), when it is set to a string. */
function clusterNameOf(broker: ConnectionContext['broker']): string | undefined {
  const value = broker.parameters.getGlobal('cluster_name')?.value;
  return typeof value === 'string' ? value : undefined;
}
