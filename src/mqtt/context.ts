/** What every MQTT connection of one listener shares. */
import type { Logger } from 'pino';
import type { UserRegistry } from '../auth/users.js';
import type { Broker } from '../broker/broker.js';
import type { VHost } from '../broker/vhost.js';
import type { Will } from './codec/packets.js';
import type { MqttConnection } from './connection.js';
import type { PublishEncodings } from './publish-encodings.js';
import type { Qos2StateStore } from './qos2-state.js';
import type { RetainedStore } from './retained.js';
import type { MqttSession, SessionRegistry } from './session.js';

export interface MqttSettings {
  /** Clients without a user name connect as `guest` (from loopback only); false refuses them. */
  readonly allowAnonymous: boolean;
  /** The vhost when the user name names none ("vhost:user"). */
  readonly defaultVhost: string;
  /** Largest packet accepted (CONNACK Maximum Packet Size). */
  readonly maxPacketSize: number;
  /** Client-to-server topic aliases accepted (CONNACK Topic Alias Maximum). */
  readonly topicAliasMaximum: number;
  /** QoS 1/2 publishes the client may have unacknowledged (CONNACK Receive Maximum). */
  readonly receiveMaximum: number;
  /** In-flight deliveries per client when it names no Receive Maximum (3.1.1). */
  readonly deliveryWindow: number;
  /** A client must send CONNECT within this. */
  readonly connectTimeoutMs: number;
  /** Socket bytes queued above which deliveries pause. */
  readonly highWaterMark: number;
}

export interface MqttContext {
  readonly broker: Broker;
  readonly users: UserRegistry;
  readonly logger: Logger;
  readonly settings: MqttSettings;
  readonly sessions: SessionRegistry;
  readonly encodings: PublishEncodings;
  retainedFor(vhost: VHost): RetainedStore;
  /** Persistent sessions' QoS 2 state (qos2-state.ts). */
  qos2StateFor(vhost: VHost): Qos2StateStore;
  blockedReason(): string | undefined;
  connectionClosed(connection: MqttConnection): void;
  /** Publishes a Will (now, or after its delay: the connection may be gone by then). */
  publishWill(connection: MqttConnection, session: MqttSession, will: Will): void;
}
