import type { Logger } from 'pino';
import type { UserRegistry } from '../auth/users.js';
import type { Broker } from '../broker/broker.js';
import type { FieldTable } from '../broker/message.js';
import type { ChannelHost } from './channel/host.js';
import type { Frame } from './codec/frames.js';
import type { AmqpConnection } from './connection.js';
import type { AmqpLimits } from './limits.js';
import type { ChannelInfo } from '../session/views.js';
import type { PublisherFlowSettings } from '../session/publisher-flow.js';

/** What the connection layer needs of a channel (the channel layer's Channel implements it). */
export interface ChannelLike {
  handleFrame(frame: Frame): void;
  resume(): void;
  teardown(): void;
  /** Its management snapshot; channels that have none are listed by number only. */
  describe?(number: number): ChannelInfo;
}

export type ChannelFactory = (id: number, host: ChannelHost) => ChannelLike;

/** Settings shared by all connections of one listener. */
export interface ConnectionSettings {
  readonly limits: AmqpLimits;
  /** A client that has not sent connection.open by then is dropped (RabbitMQ: handshake_timeout 10 s). */
  readonly handshakeTimeoutMs: number;
  /** How long to wait for connection.close-ok (or the peer's FIN) before destroying the socket. */
  readonly closeTimeoutMs: number;
  /** Socket bytes queued (plus frames not yet flushed) above which writable() turns false. */
  readonly highWaterMark: number;
  /** Input budget per event-loop turn and credit-flow water marks (default DEFAULT_PUBLISHER_FLOW). */
  readonly publisherFlow?: PublisherFlowSettings;
}

/** What a connection needs of its listener. */
export interface ConnectionContext {
  readonly broker: Broker;
  readonly users: UserRegistry;
  readonly logger: Logger;
  readonly settings: ConnectionSettings;
  readonly channelFactory: ChannelFactory;
  /** The alarm in force, if any (publishers get blocked). */
  blockedReason(): string | undefined;
  /** Connections past connection.open, for the node connection limit. */
  openConnectionCount(): number;
  connectionOpened(connection: AmqpConnection): void;
  connectionClosed(connection: AmqpConnection): void;
}

/** Connection life cycle, in order; comparisons like `state < State.Open` rely on the order. */
export const ConnectionState = {
  AwaitingHeader: 0,
  AwaitingStartOk: 1,
  AwaitingTuneOk: 2,
  AwaitingOpen: 3,
  Open: 4,
  /** We sent connection.close and wait for close-ok. */
  Closing: 5,
  /** Close handshake done or socket gone: nothing more is read or written. */
  Closed: 6,
} as const;
export type ConnectionState = (typeof ConnectionState)[keyof typeof ConnectionState];

/** Names as rabbitmqctl list_connections shows them, indexed by ConnectionState. */
export const STATE_NAMES = ['starting', 'starting', 'tuning', 'opening', 'running', 'closing', 'closed'] as const;
