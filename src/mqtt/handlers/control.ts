/** PINGREQ (3.12), DISCONNECT (3.14) and AUTH (3.15). */
import type { AuthPacket, DisconnectPacket } from '../codec/packets.js';
import { MqttProtocolError, Reason } from '../codec/reason-codes.js';
import type { MqttConnection } from '../connection.js';

export function handlePingreq(c: MqttConnection): void {
  c.writePacket({ type: 'pingresp' });
}

/** A normal DISCONNECT discards the Will; 0x04 keeps it (3.14.2.1). 5.0 may change the session expiry. */
export function handleDisconnect(c: MqttConnection, packet: DisconnectPacket): void {
  const expiry = packet.properties?.sessionExpiryInterval;
  const session = c.session;
  if (expiry !== undefined && session !== undefined) {
    // 3.14.2.2.2: a session that started with expiry 0 may not be given one at DISCONNECT.
    if (session.expirySeconds === 0 && expiry !== 0) throw new MqttProtocolError(Reason.ProtocolError, 'session expiry set at DISCONNECT after 0 at CONNECT');
    session.expirySeconds = expiry;
  }
  c.disconnectedCleanly = packet.reasonCode !== Reason.DisconnectWithWill;
  c.close(undefined);
}

/** Warren offers no enhanced authentication methods (4.12). */
export function handleAuth(_c: MqttConnection, _packet: AuthPacket): void {
  throw new MqttProtocolError(Reason.ProtocolError, 'enhanced authentication is not supported');
}
