import type { User } from '../auth/users.js';
import type { FieldTable } from '../broker/message.js';
import type { VHost } from '../broker/vhost.js';
import type { ConnectionInfo } from '../session/views.js';
import { ConnectionState, STATE_NAMES } from './connection-types.js';

/** The parts of a connection its management snapshot reads. */
export interface DescribedConnection {
  readonly name: string;
  readonly peerHost: string;
  readonly peerPort: number;
  readonly state: ConnectionState;
  readonly user: User | undefined;
  readonly vhost: VHost | undefined;
  readonly channelCount: number;
  readonly clientProperties: FieldTable;
  readonly connectedAt: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly frameMax: number;
  readonly channelMax: number;
  readonly heartbeatSeconds: number;
  readonly authMechanism: string;
}

/**
 * A snapshot for the management API. User and vhost are shown only once the handshake set them; an open
 * connection shows its publisher-flow state (running, flow, blocking, blocked) as RabbitMQ does.
 */
export function describeConnection(c: DescribedConnection, tls: boolean, flowState: string | undefined): ConnectionInfo {
  return {
    name: c.name,
    protocol: 'AMQP 0-9-1',
    peerHost: c.peerHost,
    peerPort: c.peerPort,
    user: c.state >= ConnectionState.AwaitingTuneOk ? c.user?.name : undefined,
    vhost: c.state >= ConnectionState.Open ? c.vhost?.name : undefined,
    state: c.state === ConnectionState.Open && flowState !== undefined ? flowState : STATE_NAMES[c.state],
    channels: c.channelCount,
    clientProperties: c.clientProperties,
    connectedAt: c.connectedAt,
    bytesIn: c.bytesIn,
    bytesOut: c.bytesOut,
    frameMax: c.frameMax,
    channelMax: c.channelMax,
    heartbeat: c.heartbeatSeconds,
    tls,
    authMechanism: c.authMechanism,
  };
}
