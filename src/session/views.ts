/**
 * How every front door shows its clients to the management API, the metrics and the dashboard: one
 * connection view, one channel view and one listener interface for AMQP, MQTT, STOMP, SQS, Kafka...
 * A door implements these; http/ reads only these, never a door's own classes.
 */
import type { SessionOwner } from '../broker/front-door.js';
import type { FieldTable } from '../broker/message.js';

/** A snapshot of one client connection, in the fields RabbitMQ's /api/connections shows. */
export interface ConnectionInfo {
  readonly name: string;
  /** As RabbitMQ names it: 'AMQP 0-9-1', 'MQTT 3.1.1', 'STOMP 1.2', ... */
  readonly protocol: string;
  readonly peerHost: string;
  readonly peerPort: number;
  /** Once authenticated. */
  readonly user: string | undefined;
  /** Once the client chose one. */
  readonly vhost: string | undefined;
  /** 'starting', 'running', 'flow', 'blocking', 'blocked', 'closing', ... */
  readonly state: string;
  readonly channels: number;
  readonly clientProperties: FieldTable;
  readonly connectedAt: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly frameMax: number;
  readonly channelMax: number;
  /** Seconds; 0 = none. */
  readonly heartbeat: number;
  readonly tls: boolean;
  readonly authMechanism: string;
  /** Doors without long-lived connections (SQS: one row per client identity): requests served so far. */
  readonly requests?: number;
  /** ...and when the last one came (ms since the epoch). */
  readonly lastSeenAt?: number;
}

/** A snapshot of one channel (AMQP channel, MQTT/STOMP session: doors without channels show one). */
export interface ChannelInfo {
  readonly number: number;
  readonly state: string;
  readonly consumerCount: number;
  readonly prefetchCount: number;
  readonly globalPrefetchCount: number;
  readonly unacknowledged: number;
  readonly confirm: boolean;
  readonly transactional: boolean;
}

/** One live client connection of any door. */
export interface ConnectionView extends SessionOwner {
  readonly name: string;
  info(): ConnectionInfo;
  /** Its open channels, by number. */
  channels(): ChannelInfo[];
  /** Closes it on the operator's behalf (AMQP: connection.close 320 with `reason`). */
  forceClose(reason: string): Promise<void>;
}

/** "<connection name> (<channel number>)", RabbitMQ's channel name. */
export function channelName(connection: { readonly name: string }, number: number): string {
  return `${connection.name} (${number})`;
}

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

/**
 * One front door's listening socket, as the composition root (server.ts) holds every door: started,
 * blocked and unblocked together by resource alarms, closed on shutdown, and asked for its connections.
 */
export interface Listener {
  /** For /api/overview's listeners and the log: 'amqp', 'amqp/ssl', 'mqtt', 'stomp', 'http/sqs', ... */
  readonly protocol: string;
  listen(): Promise<ListenAddress>;
  /** Stops accepting and closes every connection (clients are told why, as their protocol allows). */
  close(reason: string): Promise<void>;
  /** A resource alarm was raised (reason) or cleared (undefined): publishers are held or let go. */
  setBlocked(reason: string | undefined): void;
  /** Every live connection, handshaking ones included. */
  connections(): Iterable<ConnectionView>;
}

/**
 * One shovel as the management API shows it: what src/shovel reports (URIs already without passwords)
 * and src/http lists, here so that neither folder imports the other.
 */
export interface ShovelRow {
  readonly name: string;
  readonly vhost: string;
  readonly type: 'dynamic' | 'static';
  readonly state: 'starting' | 'running' | 'terminated';
  readonly reason: string | undefined;
  readonly since: Date;
  readonly srcUri: string;
  readonly destUri: string;
  /** src_queue, or src_exchange and src_exchange_key. */
  readonly source: Readonly<Record<string, string>>;
  /** dest_queue, or dest_exchange (and dest_exchange_key); empty: each message's own. */
  readonly dest: Readonly<Record<string, string>>;
  readonly transferred: number;
  /** Messages per second over the last sampling interval. */
  readonly rate: number;
}
